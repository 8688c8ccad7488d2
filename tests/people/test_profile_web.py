"""Mentors and mentees keep their own profile over HTTP: availability, mode, capacity,
competency levels; bad input changes nothing; a change makes a solved round stale."""

from __future__ import annotations

from datetime import date

from mentormatch.extensions import db
from mentormatch.models import AvailabilityWindow, Participant, Programme, Round
from mentormatch.services.catalogue import by_code
from tests import factories as f
from tests.helpers import csrf_from


def _setup(client, role: str):
    prog = Programme(name="Program Profil", start_date=date(2027, 1, 1),
                     end_date=date(2027, 12, 31))
    db.session.add(prog)
    person = f.person("Dewi Profil", levels={"KOM": 2}, required={"KOM": 4})
    db.session.flush()
    db.session.add(Participant(programme_id=prog.id, person_id=person.id, role=role))
    rnd = Round(programme_id=prog.id, name="Putaran", kind="initial", filters={}, criteria={},
                status="solved", progress={}, stats={})
    db.session.add(rnd)
    user = f.user((role,), person_row=person)
    db.session.commit()
    f.login(client, user)
    return person, rnd


def test_mentee_edits_own_profile_and_round_turns_stale(client, db):
    person, rnd = _setup(client, "mentee")
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert 'id="edit-profile"' in page
    token = csrf_from(client, "/people/me/edit")
    kom = by_code()["KOM"].id
    bad = client.post("/people/me/edit", data={"csrf_token": token, "mode": "online",
                                               "availability": "Senin pagi"})
    assert "Senin pagi" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).status == "solved"
    assert person.mode == "either"
    r = client.post("/people/me/edit", data={
        "csrf_token": token, "mode": "online", "availability": "Sel 09:00-11:00; Kam 13:00-15:00",
        f"level_{kom}": "3", f"target_{kom}": "5"}, follow_redirects=True)
    assert "Profil Anda telah disimpan" in r.get_data(as_text=True)
    db.session.expire_all()
    windows = sorted((w.weekday, w.start_minute, w.end_minute) for w in db.session.scalars(
        db.select(AvailabilityWindow).where(AvailabilityWindow.person_id == person.id)))
    assert windows == [(1, 540, 660), (3, 780, 900)]
    person = db.session.get(type(person), person.id)
    pc = next(p for p in person.competencies if p.competency_id == kom)
    assert person.mode == "online" and pc.current_level == 3 and pc.required_level == 5
    assert db.session.get(Round, rnd.id).status == "stale"


def test_mentor_sets_capacity(client, db):
    person, _rnd = _setup(client, "mentor")
    token = csrf_from(client, "/people/me/edit")
    client.post("/people/me/edit", data={"csrf_token": token, "mode": "either",
                                         "availability": "Rab 08:00-10:00", "capacity": "2"})
    db.session.expire_all()
    part = db.session.scalar(db.select(Participant).where(Participant.person_id == person.id))
    assert part.capacity == 2
