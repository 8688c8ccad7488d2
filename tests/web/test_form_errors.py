"""Forms through Flask-WTF, as a user meets them: a value the form refuses shows the same
page again (422) with the message beside its field - in Indonesian by default, tied to the
input with aria-describedby - and nothing is written."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from mentormatch.extensions import db
from mentormatch.models import Programme, RoundConstraint
from mentormatch.services import rounds
from tests import factories as f
from tests.helpers import csrf_from
from tests.rounds.test_rounds import setup_programme
from tests.rounds.test_rounds_web import FORM


def _described(html: str, name: str) -> str:
    """The message the input called ``name`` points to with aria-describedby."""
    tags = [t for t in re.findall(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', html)
            if "aria-describedby" in t]
    assert len(tags) == 1, f"not one described input {name}: {tags}"
    ref = re.search(r'aria-describedby="([^"]+)"', tags[0])
    assert ref and 'aria-invalid="true"' in tags[0], tags[0]
    msg = re.search(rf'id="{ref.group(1)}"[^>]*>([^<]*)<', html)
    assert msg, f"no element {ref.group(1)}"
    return msg.group(1).strip()


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_programme_form_refuses_a_non_number_beside_the_field(client, app):
    coord = f.user(("coordinator",))
    db.session.commit()
    f.login(client, coord)
    token = csrf_from(client, "/programmes/new")
    r = client.post("/programmes/new", data={"csrf_token": token, **FORM,
                                             "session_count": "enam"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert _described(html, "session_count") == "Bukan bilangan bulat yang sah."
    assert 'value="Mentoring Kominfo"' in html  # what was typed is kept
    assert _count(Programme) == 0
    # the service's own rule, also beside its field (the status stays as it was: 200)
    r = client.post("/programmes/new", data={"csrf_token": token, **FORM,
                                             "end_date": "2025-01-01"})
    assert _described(r.get_data(as_text=True), "end_date") == \
        "Periode berakhir sebelum dimulai."
    assert _count(Programme) == 0


def test_round_page_form_refused_writes_nothing(client, app):
    coord, prog, mentors, mentees = setup_programme()
    rnd = rounds.create(prog, coord, name="Putaran 1")
    db.session.commit()
    f.login(client, coord)
    page = f"/programmes/{prog.id}/rounds/{rnd.id}"
    token = csrf_from(client, page)
    r = client.post(f"{page}/hand", data={"csrf_token": token, "mentee_id": mentees[0].id,
                                          "mentor_id": mentors[0].id,
                                          "override_reason": "x" * 501})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="by-hand"' in html
    assert _described(html, "override_reason") == "Isian maksimal 500 karakter."
    assert 'aria-invalid' not in client.get(page).get_data(as_text=True)  # that answer only
    r = client.post(f"{page}/criteria", data={"csrf_token": token, "min_grade_steps": "dua"})
    assert r.status_code == 422
    assert _described(r.get_data(as_text=True), "min_grade_steps") == \
        "Bukan bilangan bulat yang sah."
    assert _count(RoundConstraint) == 0
    db.session.refresh(rnd)
    assert rnd.criteria.get("min_grade_steps") != "dua"
    # English on request
    client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    r = client.post(f"{page}/criteria", data={"csrf_token": token, "min_grade_steps": "two"})
    assert _described(r.get_data(as_text=True), "min_grade_steps") == \
        "Not a valid integer value."


def test_log_form_shows_each_refusal_beside_its_field(client, app):
    from mentormatch.models import Goal, SessionLog
    from tests.logbook.test_logbook import make_pair
    from tests.logbook.test_participants_web import _post_log, _users

    pair = make_pair()
    _mentor, mentee = _users(pair)
    db.session.commit()
    f.login(client, mentee)
    # the form's own check (not a date), then the logbook's rule (too long), each at its field
    r = _post_log(client, pair, held_on="31-01-2026")
    assert r.status_code == 400
    assert _described(r.get_data(as_text=True), "held_on") == \
        "Mohon masukkan tanggal yang valid."
    r = _post_log(client, pair, duration_minutes="9999")
    assert r.status_code == 400
    assert "600 menit" in _described(r.get_data(as_text=True), "duration_minutes")
    assert 'value="Menyusun laporan kinerja"' not in r.get_data(as_text=True)  # a textarea
    assert "Menyusun laporan kinerja</textarea>" in r.get_data(as_text=True)  # kept as typed
    assert _count(SessionLog) == 0
    # a small form on the pair page: the page again, its section open, the message there
    token = csrf_from(client, f"/pairs/{pair.id}")
    r = client.post(f"/pairs/{pair.id}/goals", data={
        "csrf_token": token, "competency_id": "1", "target_level": "empat",
        "description": "Pidato"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="goal-form"' in html
    assert _described(html, "target_level") == "Level berkisar dari 1 sampai 5."
    assert _count(Goal) == 0


def test_invite_refuses_a_bad_value_beside_the_field(client, app):
    from mentormatch.models import User

    admin = f.user(("admin",))
    db.session.commit()
    f.login(client, admin)
    token = csrf_from(client, "/admin/users")
    users = _count(User)
    long = "siti." * 50 + "@example.go.id"
    r = client.post("/admin/users", data={"csrf_token": token, "email": long,
                                          "roles": ["mentor"]})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and '<details class="card" id="invite" open>' in html
    assert _described(html, "email") == "Isian maksimal 254 karakter."
    assert f'value="{long}"' in html
    r = client.post("/admin/users", data={"csrf_token": token, "email": "siti@example.go.id",
                                          "roles": ["root"]})
    assert r.status_code == 422
    assert "bukan pilihan yang sah" in r.get_data(as_text=True)
    assert _count(User) == users


def test_every_wtforms_message_we_show_has_its_indonesian(app):
    from flask_babel import get_translations

    from mentormatch.web.forms.base import WTFORMS_MESSAGES

    with app.test_request_context():  # Indonesian by default
        catalogue = get_translations()
        untranslated = []
        for message in WTFORMS_MESSAGES:
            msgid, *plural = message._args  # the msgid(s) the lazy string was made with
            shown = (catalogue.ungettext(msgid, plural[0], 1) if plural
                     else catalogue.ugettext(msgid))
            if shown == msgid:
                untranslated.append(msgid)
    assert untranslated == []


def test_staff_import_refuses_another_file_type_beside_the_field(client, app):
    import io

    from mentormatch.models import Person, StagedUpload

    coord = f.user(("coordinator",))
    db.session.commit()
    f.login(client, coord)
    token = csrf_from(client, "/people/import/")
    people = _count(Person)
    r = client.post("/people/import/preview", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(b"NIP;Nama\n"), "pegawai.pdf")})
    assert r.status_code == 400
    assert _described(r.get_data(as_text=True), "file") == \
        "Hanya berkas CSV dan XLSX yang dapat diimpor."
    r = client.post("/people/import/preview", content_type="multipart/form-data",
                    data={"csrf_token": token})
    assert _described(r.get_data(as_text=True), "file") == "Pilih berkas CSV atau XLSX."
    assert _count(StagedUpload) == 0 and _count(Person) == people
