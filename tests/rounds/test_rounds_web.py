"""HTTP tests for programmes and rounds: the coordinator path, who may act on every POST
route, what the pages say (Indonesian by default, English on request, no raw codes)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import (
    AuditLog,
    MentorPreference,
    Pair,
    Participant,
    Programme,
    Round,
    SessionSeries,
)
from mentormatch.services import programmes, rounds
from mentormatch.services.programmes import Filters
from tests import factories as f
from tests.helpers import csrf_from, recorded_statements, set_settings
from tests.rounds.test_rounds import run_until_idle, setup_programme, solve_now

TUE = ((1, 9 * 60, 12 * 60),)


def _people():
    mentors = [f.person(f"Mentor {i}", grade=13, levels={"KOM": 4}, windows=TUE)
               for i in range(2)]
    mentees = [f.person(f"Mentee {i}", grade=8, levels={"KOM": 1}, required={"KOM": 3},
                        windows=TUE) for i in range(3)]
    return mentors, mentees


FORM = {"name": "Mentoring Kominfo", "start_date": "2026-01-05", "end_date": "2027-06-30",
        "session_minutes": "60", "interval_weeks": "2", "session_count": "6",
        "mode_policy": "either", "default_capacity": "3", "jp_minutes_per_jp": "45",
        "jp_rounding": "floor", "jp_max_minutes_per_session": "120",
        "override_rule": ["grade", "mode"]}


def _make_programme(client, coord):
    f.login(client, coord)
    token = csrf_from(client, "/programmes/new")
    r = client.post("/programmes/new", data={"csrf_token": token, **FORM})
    assert r.status_code == 302, r.get_data(as_text=True)
    prog = db.session.scalars(select(Programme)).one()
    return prog, token


def _english(client, token):
    client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})


def test_coordinator_walks_the_round(client, app):
    coord = f.user(("coordinator",))
    mentors, mentees = _people()
    db.session.commit()
    prog, token = _make_programme(client, coord)
    assert prog.jp_rule == {"minutes_per_jp": 45, "rounding": "floor",
                            "max_minutes_per_session": 120}
    assert prog.override_policy == {"overridable": ["grade", "mode"], "capacity_override": False}
    base = f"/programmes/{prog.id}"
    page = client.get(f"{base}?role=mentee&grade_max=8&gap_in=KOM&preview=1")
    assert "3 pegawai sesuai saringan" in page.get_data(as_text=True)
    for role, data in (("mentee", {"grade_max": "8"}), ("mentor", {"grade_min": "13"})):
        r = client.post(f"{base}/participants", data={"csrf_token": token, "role": role, **data})
        assert r.status_code == 302
    r = client.post(f"{base}/rounds", data={"csrf_token": token, "name": "Putaran 1",
                                            "gap_in": "KOM"})
    rnd = db.session.scalars(select(Round)).one()
    assert r.headers["Location"].endswith(f"{base}/rounds/{rnd.id}")
    html = client.get(f"{base}/rounds/{rnd.id}").get_data(as_text=True)
    assert 'id="c-mentees">3<' in html and 'id="c-mentors">2<' in html
    assert ">Draf<" in html
    r = client.post(f"{base}/rounds/{rnd.id}/solve", data={"csrf_token": token},
                    follow_redirects=True)
    assert "Perhitungan diminta" in r.get_data(as_text=True)
    again = client.post(f"{base}/rounds/{rnd.id}/solve", data={"csrf_token": token},
                        follow_redirects=True)
    assert "sudah menunggu perhitungan" in again.get_data(as_text=True)  # queued once
    db.session.rollback()
    state = client.get(f"{base}/rounds/{rnd.id}/progress").get_json()
    assert state["status"] == "queued" and state["labels"]["phase"] == "Menunggu giliran dihitung"
    assert run_until_idle() == 1
    db.session.rollback()  # end the test's read snapshot (the kept-open app context)
    state = client.get(f"{base}/rounds/{rnd.id}/progress").get_json()
    assert state["status"] == "solved" and state["matched"] == 3
    assert state["stats"]["objective"] is not None
    assert state["labels"]["status"] == "Selesai dihitung"
    html = client.get(f"{base}/rounds/{rnd.id}").get_data(as_text=True)
    assert "Komunikasi" in html and "WIB" in html and "Tatap muka" in html
    assert re.search(r"Sel \d\d[.:]00 WIB", html)  # the weekday from Babel, Indonesian
    db.session.expire_all()
    rnd = db.session.get(Round, rnd.id)
    prop = rnd.proposals[0]
    side = client.get(f"{base}/rounds/{rnd.id}/proposals/{prop.id}")
    assert side.status_code == 200 and 'id="profiles"' in side.get_data(as_text=True)
    r = client.post(f"{base}/rounds/{rnd.id}/lock", data={
        "csrf_token": token, "mentee_id": prop.mentee_id, "mentor_id": prop.mentor_id})
    assert r.status_code == 302
    for _ in range(2):  # double click
        r = client.post(f"{base}/rounds/{rnd.id}/approve", data={"csrf_token": token})
        assert r.status_code == 302
    assert db.session.query(Pair).count() == 3
    assert db.session.query(SessionSeries).count() == 3
    html = client.get(f"{base}/rounds/{rnd.id}").get_data(as_text=True)
    assert "sudah disetujui" in html and 'id="published"' in html


def _post_routes(app) -> list[str]:
    return sorted(r.endpoint for r in app.url_map.iter_rules()
                  if r.endpoint.startswith("rounds.") and "POST" in r.methods)


def test_new_round_keeps_its_kind_and_the_employment_filter(client, app):
    """The new-round form holds two choices a coordinator makes: the round's kind and whom
    it takes by employment. Both must arrive (they once shared one field name)."""
    coord = f.user(("coordinator",))
    db.session.commit()
    prog, token = _make_programme(client, coord)
    html = client.get(f"/programmes/{prog.id}").get_data(as_text=True)
    form = html.split('id="new-round"', 1)[1].split("</form>", 1)[0]
    names = re.findall(r'<(?:select|input)[^>]* name="([a-z_]+)"', form)
    assert len(names) == len(set(names)), names
    r = client.post(f"/programmes/{prog.id}/rounds",
                    data={"csrf_token": token, "name": "PPPK saja", "round_kind": "rematch",
                          "kind": "pppk"})
    assert r.status_code == 302
    rnd = db.session.scalars(select(Round)).one()
    assert rnd.kind == "rematch" and rnd.filters["kind"] == "pppk"


def test_every_post_route_is_guarded(client, app):
    owner = f.user(("coordinator",))
    other = f.user(("coordinator",))
    mentors, mentees = _people()
    mentee_user = f.user(("mentee",), person_row=mentees[0])
    db.session.commit()
    prog, _ = _make_programme(client, owner)
    programmes.add_participants(prog, "mentor", Filters(grade_min=13), owner)
    programmes.add_participants(prog, "mentee", Filters(grade_max=8), owner)
    prog.preferences_enabled = True
    rnd = rounds.create(prog, owner, name="R")
    db.session.commit()
    ids = {"pid": prog.id, "rid": rnd.id, "person_id": mentors[0].id}
    endpoints = _post_routes(app)
    assert {"rounds.solve", "rounds.approve", "rounds.lock", "rounds.forbid", "rounds.hand",
            "rounds.withdraw"} - {e.replace("by_hand", "hand") for e in endpoints} == set()
    urls = {}
    with app.test_request_context():
        from flask import url_for

        for e in endpoints:
            rule = next(r for r in app.url_map.iter_rules() if r.endpoint == e)
            urls[e] = url_for(e, **{k: v for k, v in ids.items() if k in rule.arguments})
    form = {"mentee_id": mentees[0].id, "mentor_id": mentors[0].id, "role": "mentee",
            "name": "X", "constraint_id": "1", "mentor_id_list": [mentors[0].id],
            **FORM}
    f.login(client, other)
    token = csrf_from(client, "/programmes/")
    for e, url in urls.items():
        if e == "rounds.new":  # any coordinator may open a programme of their own
            continue
        r = client.post(url, data={"csrf_token": token, **form})
        assert r.status_code == 404, (e, r.status_code)  # another programme's coordinator
    f.login(client, mentee_user)
    token = csrf_from(client, f"/programmes/{prog.id}/my-preferences")
    for e, url in urls.items():
        if e == "rounds.my_preferences":  # the mentee's own page
            continue
        r = client.post(url, data={"csrf_token": token, **form})
        assert r.status_code == 403, (e, r.status_code)
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).status == "draft"
    assert db.session.get(Programme, prog.id).name == "Mentoring Kominfo"
    assert not db.session.get(Round, rnd.id).constraints
    assert db.session.scalars(select(Participant).where(
        Participant.person_id == mentors[0].id)).one().active
    # GET pages: the other coordinator sees 404, a mentee 403
    gets = [f"/programmes/{prog.id}", f"/programmes/{prog.id}/rounds/{rnd.id}",
            f"/programmes/{prog.id}/rounds/{rnd.id}/progress", f"/programmes/{prog.id}/audit",
            f"/programmes/{prog.id}/edit"]
    for path in ["/programmes/", "/programmes/new", *gets]:
        assert client.get(path).status_code == 403, path
    f.login(client, other)
    for path in gets:
        assert client.get(path).status_code == 404, path


def test_hand_set_pair_warns_then_overrides(client, app):
    coord = f.user(("coordinator",))
    mentors, mentees = _people()
    junior = f.person("Junior", grade=8, levels={"KOM": 4}, windows=TUE)
    db.session.commit()
    prog, token = _make_programme(client, coord)
    base = f"/programmes/{prog.id}"
    # mentees first: the grade-8 junior then joins as a mentor (nobody takes both parts)
    client.post(f"{base}/participants", data={"csrf_token": token, "role": "mentee",
                                              "grade_max": "8", "gap_in": "KOM"})
    client.post(f"{base}/participants", data={"csrf_token": token, "role": "mentor",
                                              "grade_min": "8"})
    rnd = rounds.create(prog, coord, name="R")
    db.session.commit()
    data = {"csrf_token": token, "mentee_id": mentees[0].id, "mentor_id": junior.id}
    page = client.post(f"{base}/rounds/{rnd.id}/hand", data=data, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "Peringatan" in text and "Selisih golongan minimum" in text and not rnd.constraints
    assert "grade" not in re.sub(r"<[^>]+>", "", text).split()  # no raw rule code
    page = client.post(f"{base}/rounds/{rnd.id}/hand", data={**data, "override_reason": "Expert"},
                       follow_redirects=True)
    db.session.expire_all()
    rnd = db.session.get(Round, rnd.id)
    assert [c.override_reason for c in rnd.constraints] == ["Expert"]
    assert ": Expert" in page.get_data(as_text=True)  # the reason is shown with the pair
    # a supervisor is not in this programme's override policy
    mentees[1].supervisor_id = mentors[0].id
    db.session.commit()
    page = client.post(f"{base}/rounds/{rnd.id}/hand", data={
        "csrf_token": token, "mentee_id": mentees[1].id, "mentor_id": mentors[0].id,
        "override_reason": "x"}, follow_redirects=True)
    assert "Kebijakan program tidak mengizinkan pelanggaran: Bukan atasan langsung" in \
        page.get_data(as_text=True)


def test_stale_round_is_not_approved_over_http(client, app):
    coord, prog, mentors, mentees = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    f.login(client, coord)
    base = f"/programmes/{prog.id}/rounds/{rnd.id}"
    token = csrf_from(client, base)
    p = rnd.proposals[0]
    client.post(f"{base}/forbid", data={"csrf_token": token, "mentee_id": p.mentee_id,
                                        "mentor_id": p.mentor_id})
    html = client.get(base).get_data(as_text=True)
    assert 'id="stale"' in html and 'id="approve"' not in html
    page = client.post(f"{base}/approve", data={"csrf_token": token}, follow_redirects=True)
    assert "hitung ulang sebelum menyetujui" in page.get_data(as_text=True)
    assert db.session.query(Pair).count() == 0


def test_progress_is_shown_while_solving(client, app):
    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    rounds.queue(rnd, coord)
    db.session.commit()
    rid, token = rounds.claim_next("w")
    writer = rounds.ProgressWriter(db.engine, rid, token, every=0)
    writer({"phase": "flow", "elapsed": 1.5, "matched": 2, "objective": 41000, "bound": 45000})
    f.login(client, coord)
    html = client.get(f"/programmes/{prog.id}/rounds/{rid}").get_data(as_text=True)
    assert 'data-phase="flow"' in html and ">Mencocokkan<" in html
    # Indonesian number formats: a decimal comma, a thousands dot
    assert 'id="p-objective">41.000<' in html and 'id="p-matched">2<' in html
    state = client.get(f"/programmes/{prog.id}/rounds/{rid}/progress").get_json()
    assert state["status"] == "solving" and state["progress"]["objective"] == 41000
    assert state["labels"] == {"status": "Sedang dihitung", "phase": "Mencocokkan"}
    assert rounds.solve_claimed(rid, token) == "solved"
    db.session.rollback()
    html = client.get(f"/programmes/{prog.id}/rounds/{rid}").get_data(as_text=True)
    assert 'id="stats"' in html and "batas atas" in html and "waktu" in html


def test_failed_solve_is_explained_without_codes(client, app):
    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    rounds.queue(rnd, coord)
    db.session.commit()
    rounds.claim_next("dies")
    from datetime import timedelta

    from mentormatch.models.base import utcnow
    rounds.recover_stalled(utcnow() + timedelta(hours=1))
    f.login(client, coord)
    html = client.get(f"/programmes/{prog.id}/rounds/{rnd.id}").get_data(as_text=True)
    assert "Perhitungan berhenti sebelum selesai" in html and "worker_stopped" not in html


def test_infeasible_lock_is_reported_with_names(client, app):
    coord, prog, mentors, mentees = setup_programme(n_mentors=1, n_mentees=2)
    rnd = rounds.create(prog, coord, name="R", filters={"city": "Padang"})
    rounds.lock(rnd, mentees[0].id, mentors[0].id, coord)
    db.session.commit()
    rounds.set_filters(rnd, {"grade_min": "9"}, coord)  # the locked mentee is filtered out
    db.session.commit()
    rnd = solve_now(rnd, coord)
    f.login(client, coord)
    html = client.get(f"/programmes/{prog.id}/rounds/{rnd.id}").get_data(as_text=True)
    assert (f"{mentees[0].name} – {mentors[0].name} tidak dapat dipertahankan: "
            "salah satunya tidak termasuk putaran ini.") in html
    token = csrf_from(client, "/programmes/")
    _english(client, token)
    html = client.get(f"/programmes/{prog.id}/rounds/{rnd.id}").get_data(as_text=True)
    assert f"{mentees[0].name} – {mentors[0].name} could not be kept" in html


def test_pages_translate_codes_and_switch_to_english(client, app):
    coord, prog, mentors, mentees = setup_programme(n_mentors=1, n_mentees=3,
                                                    default_capacity=1)
    rnd = solve_now(rounds.create(prog, coord, name="R", kind="rematch"), coord)
    f.login(client, coord)
    base = f"/programmes/{prog.id}"
    html = client.get(f"{base}/rounds/{rnd.id}").get_data(as_text=True)
    visible = re.sub(r"<[^>]+>", " ", html)
    for code in ("capacity_taken", "rematch", "solved", "in_person", "either", "OPTIMAL",
                 "FEASIBLE", "no_eligible_mentor"):
        assert code not in visible.split(), code
    assert "Kapasitas mentor sudah penuh" in visible and "Pencocokan ulang" in visible
    # stored as codes and figures, worded when shown: why this pair, why a mentee is left
    assert "menutup gap Komunikasi" in html
    assert "Kapasitas mentor sudah penuh (1 mentor memenuhi syarat, semuanya penuh)" in html
    token = csrf_from(client, base)
    _english(client, token)
    html = client.get(f"{base}/rounds/{rnd.id}").get_data(as_text=True)
    assert "Mentor capacity exhausted" in html and "Rematch" in html and "In person" in html
    assert "closes the gap in Communication" in html
    assert "Mentor capacity exhausted (1 eligible mentor(s), all full)" in html
    assert re.search(r"Tue \d\d:00 WIB", html)
    show = client.get(base).get_data(as_text=True)
    assert "Online or in person" in show and "Solved" in show


def test_programme_form_validates_with_translated_messages(client, app):
    coord = f.user(("coordinator",))
    db.session.commit()
    f.login(client, coord)
    token = csrf_from(client, "/programmes/new")
    page = client.get("/programmes/new").get_data(as_text=True)
    assert 'name="jp_minutes_per_jp"' in page and 'value="45"' in page
    cases = [({"session_minutes": "5"}, "Durasi sesi (menit) harus antara 15 dan 480."),
             ({"jp_minutes_per_jp": "0"}, "Menit per JP harus antara 1 dan 480."),
             ({"jp_rounding": "sometimes"}, "Pilih cara pembulatan JP."),
             ({"end_date": "2025-01-01"}, "Periode berakhir sebelum dimulai."),
             ({"start_date": "31/01/2026"}, "Tanggal harus berbentuk 2026-01-31.")]
    for change, message in cases:
        r = client.post("/programmes/new", data={"csrf_token": token, **FORM, **change})
        assert r.status_code == 200 and message in r.get_data(as_text=True), change
    assert db.session.scalars(select(Programme)).all() == []
    r = client.post("/programmes/new", data={"csrf_token": token, **FORM,
                                             "jp_rounding": "half"})
    prog = db.session.scalars(select(Programme)).one()
    edit = client.get(f"/programmes/{prog.id}/edit").get_data(as_text=True)
    assert '<option value="half" selected>' in edit
    r = client.post(f"/programmes/{prog.id}/edit", data={
        "csrf_token": token, **FORM, "jp_minutes_per_jp": "60", "jp_rounding": "nearest",
        "jp_max_minutes_per_session": "0"})
    db.session.expire_all()
    assert db.session.get(Programme, prog.id).jp_rule == {
        "minutes_per_jp": 60, "rounding": "nearest", "max_minutes_per_session": 0}


def test_audit_page_lists_who_what_when_paginated(client, app):
    set_settings(app, rounds={"audit_page_size": 5})
    coord, prog, mentors, mentees = setup_programme()
    rnd = rounds.create(prog, coord, name="Putaran Audit")
    rounds.lock(rnd, mentees[0].id, mentors[0].id, coord)
    for _ in range(6):
        rounds.set_criteria(rnd, {"min_grade_steps": "1"}, coord)
    db.session.commit()
    total = db.session.query(AuditLog).filter(AuditLog.programme_id == prog.id).count()
    f.login(client, coord)
    html = client.get(f"/programmes/{prog.id}/audit").get_data(as_text=True)
    assert f"{total} catatan" in html and "Kriteria putaran diubah" in html
    assert html.count("<tr><td>") == 5 and 'id="older"' in html and coord.email in html
    assert html.count("Kriteria putaran diubah") == 5 and "Putaran Audit" in html
    mid = client.get(f"/programmes/{prog.id}/audit?page=2").get_data(as_text=True)
    assert "Pasangan dikunci" in mid and f"{mentees[0].name} – {mentors[0].name}" in mid
    assert "Putaran dibuat" in mid and "Peserta ditambahkan" in mid and 'id="newer"' in mid
    last = client.get(f"/programmes/{prog.id}/audit?page=3").get_data(as_text=True)
    assert "Program dibuat" in last and 'id="older"' not in last
    assert "round.lock" not in html + mid + last


def test_mentee_ranks_suggested_mentors(client, app):
    coord = f.user(("coordinator",))
    mentors, mentees = _people()
    junior = f.person("Junior mentor", grade=8, levels={"KOM": 5}, windows=TUE)
    me = f.user(("mentee",), person_row=mentees[0])
    db.session.commit()
    prog, token = _make_programme(client, coord)
    base = f"/programmes/{prog.id}"
    client.post(f"{base}/participants", data={"csrf_token": token, "role": "mentee",
                                              "grade_max": "8", "gap_in": "KOM"})
    client.post(f"{base}/participants", data={"csrf_token": token, "role": "mentor",
                                              "grade_min": "8", "grade_max": "13"})
    f.login(client, me)
    assert client.get(f"{base}/my-preferences").status_code == 404  # preferences are off
    prog.preferences_enabled = True
    db.session.commit()
    home = client.get("/mentee").get_data(as_text=True)
    assert f"{base}/my-preferences" not in home  # no round open yet
    rounds.create(prog, coord, name="R")
    db.session.commit()
    home = client.get("/mentee").get_data(as_text=True)
    assert f"{base}/my-preferences" in home and "Pilih mentor yang Anda inginkan" in home
    page = client.get(f"{base}/my-preferences").get_data(as_text=True)
    assert "Mentor 0" in page and "Mentor 1" in page
    assert "Junior mentor" not in page  # not eligible: same grade
    suggested = page.split('id="suggested"')[1].split("</ul>")[0]
    assert "menutup gap Komunikasi" in suggested  # why each mentor, worded from the codes
    assert "Anda belum memilih" in page
    token = csrf_from(client, f"{base}/my-preferences")
    r = client.post(f"{base}/my-preferences", data={
        "csrf_token": token, "mentor_id": [str(mentors[1].id), str(mentors[0].id)]})
    assert r.status_code == 200
    got = db.session.scalars(select(MentorPreference).order_by(MentorPreference.rank)).all()
    assert [(p.mentor_id, p.rank) for p in got] == [(mentors[1].id, 1), (mentors[0].id, 2)]
    page = r.get_data(as_text=True)
    assert 'id="current"' in page and page.index("Mentor 1</li>") < page.index("Mentor 0</li>")
    assert f'<option value="{mentors[1].id}" selected>' in page
    r = client.post(f"{base}/my-preferences", data={"csrf_token": token,
                                                    "mentor_id": [str(junior.id)]})
    assert "Pilih di antara mentor yang ditawarkan." in r.get_data(as_text=True)
    assert len(db.session.scalars(select(MentorPreference)).all()) == 2
    # nothing chosen: the list is cleared, and the page says so (not "Preferensi tersimpan")
    r = client.post(f"{base}/my-preferences", data={"csrf_token": token})
    assert "preferensi Anda dikosongkan" in r.get_data(as_text=True)
    assert "Preferensi tersimpan" not in r.get_data(as_text=True)
    assert db.session.scalars(select(MentorPreference)).all() == []


def test_withdraw_mentor_over_http(client, app):
    coord, prog, mentors, mentees = setup_programme(n_mentors=1, n_mentees=2)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    rounds.approve(rnd, coord)
    db.session.commit()
    f.login(client, coord)
    token = csrf_from(client, f"/programmes/{prog.id}")
    page = client.post(f"/programmes/{prog.id}/mentors/{mentors[0].id}/withdraw",
                       data={"csrf_token": token, "reason": "Mutasi"}, follow_redirects=True)
    assert "2 pasangan berakhir" in page.get_data(as_text=True)
    assert {p.status for p in db.session.scalars(select(Pair))} == {"ended"}
    page = client.post(f"/programmes/{prog.id}/mentors/{mentors[0].id}/withdraw",
                       data={"csrf_token": token}, follow_redirects=True)
    assert "Orang itu bukan mentor program ini." in page.get_data(as_text=True)


def _queries(client, path: str) -> int:
    db.session.expunge_all()  # the request loads everything itself, as in production
    with recorded_statements() as seen:
        assert client.get(path).status_code == 200
    return len(seen)


def test_round_page_queries_do_not_grow_with_the_round(client, app):
    """No query per proposal, unmatched mentee or constraint (a 1,000-mentee round stays
    as cheap as a small one)."""
    coord, prog, mentors, mentees = setup_programme(n_mentors=2, n_mentees=4,
                                                    default_capacity=1)
    small = rounds.create(prog, coord, name="small")
    rounds.forbid(small, mentees[0].id, mentors[0].id, coord)
    db.session.commit()
    small = solve_now(small, coord)
    other = programmes.create(coord, name="Big", start_date=date(2026, 1, 5),
                              end_date=date(2027, 6, 30))
    more_mentors = [f.person(f"Big mentor {i}", grade=13, levels={"KOM": 4}, windows=TUE)
                    for i in range(6)]
    more = [f.person(f"Big mentee {i}", grade=8, levels={"KOM": 1}, required={"KOM": 3},
                     windows=TUE) for i in range(40)]
    for p in more_mentors:
        db.session.add(Participant(programme_id=other.id, person_id=p.id, role="mentor"))
    for p in more + mentees:
        db.session.add(Participant(programme_id=other.id, person_id=p.id, role="mentee"))
    db.session.commit()
    big = rounds.create(other, coord, name="big")
    for m in more[:5]:
        rounds.forbid(big, m.id, more_mentors[0].id, coord)
    db.session.commit()
    big = solve_now(big, coord)
    assert len(big.proposals) >= 15 and len(big.unmatched) >= 20
    f.login(client, coord)
    small_url = f"/programmes/{prog.id}/rounds/{small.id}"
    big_url = f"/programmes/{other.id}/rounds/{big.id}"
    client.get(small_url)  # warm up (first request)
    a = _queries(client, small_url)
    b = _queries(client, big_url)
    assert b == a, (a, b)


def test_a_queue_nobody_serves_is_pointed_out(client, app):
    from datetime import timedelta

    from mentormatch.models.base import utcnow

    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    rounds.queue(rnd, coord)
    db.session.commit()
    f.login(client, coord)
    url = f"/programmes/{prog.id}/rounds/{rnd.id}"
    assert 'id="waiting-long"' not in client.get(url).get_data(as_text=True)
    db.session.get(Round, rnd.id).queued_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    assert "Apakah penjadwal (mentormatch scheduler) berjalan?" in \
        client.get(url).get_data(as_text=True)


def test_programme_dates_read_as_dates_not_iso(client):
    """A coordinator reads "5 Jan 2026 – 30 Jun 2027", not "2026-01-05 – 2027-06-30"."""
    coord, prog, _, _ = setup_programme()
    f.login(client, coord)
    for url in ("/programmes/", f"/programmes/{prog.id}", "/reports/"):
        html = client.get(url).get_data(as_text=True)
        assert "5 Jan 2026 – 30 Jun 2027" in html and "2026-01-05" not in html, url
    client.post("/language", data={"locale": "en", "csrf_token": csrf_from(client, "/programmes/")})
    assert "5 Jan 2026 – 30 Jun 2027" in client.get("/programmes/").get_data(as_text=True)
