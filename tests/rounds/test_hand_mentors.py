"""The by-hand form's mentor list: for one mentee, what setting each mentor by hand would
answer, in the words the refusal uses, the fitting mentors first. It is the POST's own
decision, so the list and the POST never disagree."""

from __future__ import annotations

import html as htmllib
from datetime import date

from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import Participant, Round
from mentormatch.services import programmes, rounds
from tests import factories as f
from tests.helpers import csrf_from, recorded_statements

TUE = ((1, 9 * 60, 12 * 60),)
WED = ((2, 9 * 60, 12 * 60),)


def _programme(n_extra: int = 0):
    coord = f.user(("coordinator",))
    prog = programmes.create(coord, name="Mentoring", start_date=date(2026, 1, 5),
                             end_date=date(2027, 6, 30))
    fit = f.person("Budi Santoso", grade=13, levels={"KOM": 4}, windows=TUE)
    full = f.person("Ani Penuh", grade=13, levels={"KOM": 4}, windows=TUE)
    night = f.person("Citra Rabu", grade=13, levels={"KOM": 4}, windows=WED)
    extra = [f.person(f"Extra {i}", grade=13, levels={"KOM": 4}, windows=WED)
             for i in range(n_extra)]
    a = f.person("Mentee A", grade=8, levels={"KOM": 1}, required={"KOM": 3}, windows=TUE)
    b = f.person("Mentee B", grade=8, levels={"KOM": 1}, required={"KOM": 3}, windows=TUE)
    for role, person in [("mentor", fit), ("mentor", full), ("mentor", night),
                         *[("mentor", x) for x in extra], ("mentee", a), ("mentee", b)]:
        db.session.add(Participant(programme_id=prog.id, person_id=person.id, role=role,
                                   capacity=1 if person is full else None))
    rnd = rounds.create(prog, coord, name="R")
    db.session.flush()
    rounds.set_by_hand(rnd, b.id, full.id, coord)  # the full mentor's one place is taken
    db.session.commit()
    return coord, prog, rnd, (fit, full, night), (a, b)


def _text(page) -> str:
    return htmllib.unescape(page.get_data(as_text=True))


def test_mentor_list_agrees_with_the_post(client, app):
    coord, prog, rnd, (fit, full, night), (a, _b) = _programme()
    f.login(client, coord)
    base = f"/programmes/{prog.id}/rounds/{rnd.id}"
    token = csrf_from(client, base)
    r = client.get(f"{base}/hand/mentors?mentee_id={a.id}")
    assert r.status_code == 200
    got = r.get_json()["mentors"]
    assert [m["id"] for m in got][0] == fit.id  # the fitting mentor first
    by = {m["id"]: m for m in got}
    assert set(by) == {fit.id, full.id, night.id}
    assert by[fit.id] == {"id": fit.id, "name": "Budi Santoso", "verdict": "fits",
                          "accepted": True, "text": "cocok"}
    assert by[full.id]["verdict"] == "capacity_full"
    assert by[full.id]["text"] == "Mentor tidak punya tempat lagi."
    assert by[night.id]["verdict"] == "no_common_time"
    assert by[night.id]["text"] == "Kedua orang ini tidak punya waktu luang bersama."
    # what POSTing each mentor answers is what the list said (refused ones first)
    for mentor in (full, night, fit):
        page = client.post(f"{base}/hand", data={"csrf_token": token, "mentee_id": a.id,
                                                 "mentor_id": mentor.id},
                           follow_redirects=True)
        text = _text(page)
        if by[mentor.id]["accepted"]:
            assert "Pasangan ditetapkan secara manual" in text
        else:
            assert by[mentor.id]["text"] in text, mentor.name
    db.session.expire_all()
    locks = {(c.mentee_id, c.mentor_id) for c in db.session.get(Round, rnd.id).constraints}
    assert (a.id, fit.id) in locks and (a.id, full.id) not in locks
    assert (a.id, night.id) not in locks
    # the page's form points its script at the list; without the script it works as before
    html = client.get(base).get_data(as_text=True)
    form = html.split('id="by-hand"')[1].split("</form>")[0]
    assert f'data-verdicts="{base}/hand/mentors"' in form
    assert "/static/by_hand.js" in html


def test_mentor_list_is_bounded(client, app):
    coord, prog, rnd, _m, (a, _b) = _programme()
    f.login(client, coord)
    url = f"/programmes/{prog.id}/rounds/{rnd.id}/hand/mentors?mentee_id={a.id}"
    client.get(url)
    with recorded_statements() as few:
        assert len(client.get(url).get_json()["mentors"]) == 3
    coord2, prog2, rnd2, _m2, (a2, _b2) = _programme(n_extra=20)
    f.login(client, coord2)
    url2 = f"/programmes/{prog2.id}/rounds/{rnd2.id}/hand/mentors?mentee_id={a2.id}"
    client.get(url2)
    with recorded_statements() as many:
        assert len(client.get(url2).get_json()["mentors"]) == 23
    assert len(many) == len(few)  # no query per mentor


def test_mentor_list_is_guarded(client, app):
    coord, prog, rnd, (fit, _full, _night), (a, b) = _programme()
    other = f.user(("coordinator",))
    mentee_user = f.user(("mentee",), person_row=a)
    db.session.commit()
    url = f"/programmes/{prog.id}/rounds/{rnd.id}/hand/mentors?mentee_id={a.id}"
    f.login(client, other)
    assert client.get(url).status_code == 404  # another programme's coordinator
    f.login(client, mentee_user)
    assert client.get(url).status_code == 403
    f.login(client, coord)
    assert client.get(url).status_code == 200
    base = f"/programmes/{prog.id}/rounds/{rnd.id}/hand/mentors"
    assert client.get(f"{base}?mentee_id={fit.id}").status_code == 404  # not a mentee
    assert client.get(base).status_code == 404
    assert client.get(f"/programmes/{prog.id}/rounds/{rnd.id + 1}/hand/mentors"
                      f"?mentee_id={a.id}").status_code == 404
    assert db.session.scalars(select(Participant).where(
        Participant.person_id == b.id)).one().active
