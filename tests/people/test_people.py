"""People list filters and the person page (competency chart, local-time availability)."""

from __future__ import annotations

from tests import factories as f


def _coordinator(client, db):
    u = f.user(["coordinator"])
    db.session.commit()
    f.login(client, u)


def test_filters(client, db):
    palu = f.location("Palu", "Palu", "Asia/Makassar")
    f.person("Andi Lamba", loc=palu, grade=13, unit_name="Bappeda",
             levels={"ANG": 2}, required={"ANG": 4})
    f.person("Budi Santoso", grade=7, levels={"ANG": 4}, required={"ANG": 4})
    _coordinator(client, db)
    page = lambda **q: client.get("/people/", query_string=q).get_data(as_text=True)  # noqa: E731
    assert "Andi Lamba" in page(city="Palu") and "Budi Santoso" not in page(city="Palu")
    assert "Andi Lamba" in page(gap="ANG") and "Budi Santoso" not in page(gap="ANG")
    assert "Budi Santoso" in page(grade_max=8) and "Andi Lamba" not in page(grade_max=8)
    assert "Andi Lamba" in page(q="lamba")
    unit_id = db.session.execute(db.text("SELECT id FROM unit WHERE name='Bappeda'")).scalar()
    assert "Budi Santoso" not in page(unit=unit_id)


def test_person_page_chart_and_local_grid(client, db):
    palu = f.location("Palu", "Palu", "Asia/Makassar")
    p = f.person("Andi Lamba", loc=palu, levels={"ANG": 2, "KOM": 3},
                 required={"ANG": 4}, windows=[(1, 9 * 60, 10 * 60)])
    _coordinator(client, db)
    html = client.get(f"/people/{p.id}").get_data(as_text=True)
    assert 'id="competency-chart"' in html
    assert "Pengelolaan Anggaran" in html and "gap 2" in html
    assert "WITA" in html
    # Tuesday 09:00 and 09:30 free, in the person's own local time
    row = html.split(">09:00</th>")[1].split("</tr>")[0]
    cells = row.count('class="free"')
    assert cells == 1 and row.index('class="free"') > row.index('class="busy"')


def test_english_switch(client, db):
    _coordinator(client, db)
    assert "Pegawai" in client.get("/").get_data(as_text=True)
    from tests.helpers import csrf_from

    token = csrf_from(client, "/")
    resp = client.post("/language", data={"locale": "en", "csrf_token": token, "next": "/"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-400:]
    assert "People and competency profiles" in client.get("/").get_data(as_text=True)


def test_weekend_and_evening_windows_widen_the_grid(client, db):
    p = f.person("Rina Wulandari", windows=[(5, 19 * 60, 21 * 60), (0, 9 * 60, 10 * 60)])
    _coordinator(client, db)
    html = client.get(f"/people/{p.id}").get_data(as_text=True)
    head = html.split('id="availability"')[1].split("</thead>")[0]
    assert head.count("<th ") == 7  # corner + Mon-Fri + Saturday (no Sunday windows)
    assert ">Sab</th>" in head
    row = html.split(">20:00</th>")[1].split("</tr>")[0]
    assert row.count('class="free"') == 1


def test_search_treats_wildcards_literally_and_pages_are_windowed(client, db):
    f.person("Ahmad_Fauzi")
    for i in range(120):
        f.person(f"Pegawai Massal {i:03d}")
    _coordinator(client, db)
    html = client.get("/people/", query_string={"q": "d_f"}).get_data(as_text=True)
    assert "Ahmad_Fauzi" in html and "Massal" not in html
    html = client.get("/people/", query_string={"q": "massal", "page": 2}).get_data(as_text=True)
    pager = html.split('class="pager"')[1].split("</nav>")[0]
    assert 'aria-current="page">2<' in pager and "q=massal" in pager and 'rel="next"' in pager


def test_language_choice_also_sets_the_e_mail_language(client, db):
    from mentormatch.models import Person
    from tests.helpers import csrf_from

    me = f.person("Rina Wulandari")
    u = f.user(["mentee"], person_row=me)
    db.session.commit()
    f.login(client, u)
    token = csrf_from(client, "/")
    client.post("/language", data={"locale": "en", "csrf_token": token, "next": "/"})
    db.session.expire_all()
    assert db.session.get(Person, me.id).locale == "en"
