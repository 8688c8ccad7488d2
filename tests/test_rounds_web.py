"""HTTP tests for programmes and rounds: the whole coordinator path and who may act."""

from __future__ import annotations

from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import Pair, Programme, Round
from mentormatch.services import rounds
from tests import factories as f
from tests.helpers import csrf_from

TUE = ((1, 9 * 60, 12 * 60),)


def _people():
    mentors = [f.person(f"Mentor {i}", grade=13, levels={"KOM": 4}, windows=TUE)
               for i in range(2)]
    mentees = [f.person(f"Mentee {i}", grade=8, levels={"KOM": 1}, required={"KOM": 3},
                        windows=TUE) for i in range(3)]
    return mentors, mentees


def _make_programme(client, coord):
    f.login(client, coord)
    token = csrf_from(client, "/programmes/new")
    r = client.post("/programmes/new", data={
        "csrf_token": token, "name": "Mentoring Kominfo", "start_date": "2026-01-05",
        "end_date": "2026-06-30", "session_minutes": "60", "interval_weeks": "2",
        "session_count": "6", "mode_policy": "either", "default_capacity": "3"})
    assert r.status_code == 302, r.get_data(as_text=True)
    prog = db.session.scalars(select(Programme)).one()
    return prog, token


def test_coordinator_walks_the_round(client, app):
    coord = f.user(("coordinator",))
    mentors, mentees = _people()
    db.session.commit()
    prog, token = _make_programme(client, coord)
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
    r = client.post(f"{base}/rounds/{rnd.id}/solve", data={"csrf_token": token})
    assert r.status_code == 302
    again = client.post(f"{base}/rounds/{rnd.id}/solve", data={"csrf_token": token})
    assert again.status_code == 302  # refused politely while queued/solving (or after)
    rounds.wait(rnd.id)
    db.session.rollback()  # end the test's read snapshot (the kept-open app context)
    state = client.get(f"{base}/rounds/{rnd.id}/progress").get_json()
    assert state["status"] == "solved" and state["matched"] == 3
    html = client.get(f"{base}/rounds/{rnd.id}").get_data(as_text=True)
    assert "Komunikasi" in html and "WIB" in html
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
    assert "sudah disetujui" in client.get(f"{base}/rounds/{rnd.id}").get_data(as_text=True)


def test_access(client, app):
    owner = f.user(("coordinator",))
    other = f.user(("coordinator",))
    mentee_person = f.person("Mentee X", grade=8)
    mentee = f.user(("mentee",), person_row=mentee_person)
    db.session.commit()
    prog, _ = _make_programme(client, owner)
    rnd = rounds.create(prog, owner, name="R")
    db.session.commit()
    paths = [f"/programmes/{prog.id}", f"/programmes/{prog.id}/rounds/{rnd.id}",
             f"/programmes/{prog.id}/rounds/{rnd.id}/progress"]
    for path in paths:
        assert client.get(path).status_code == 200
    f.login(client, other)
    token = csrf_from(client, "/programmes/")
    for path in paths:
        assert client.get(path).status_code == 404
    assert client.post(f"/programmes/{prog.id}/rounds/{rnd.id}/solve",
                       data={"csrf_token": token}).status_code == 404
    f.login(client, mentee)
    for path in ["/programmes/", "/programmes/new", *paths]:
        assert client.get(path).status_code == 403, path
    assert db.session.get(Round, rnd.id).status == "draft"


def test_hand_set_pair_warns_then_overrides(client, app):
    coord = f.user(("coordinator",))
    mentors, mentees = _people()
    junior = f.person("Junior", grade=8, levels={"KOM": 4}, windows=TUE)
    db.session.commit()
    prog, token = _make_programme(client, coord)
    base = f"/programmes/{prog.id}"
    client.post(f"{base}/participants", data={"csrf_token": token, "role": "mentor",
                                              "grade_min": "8"})
    client.post(f"{base}/participants", data={"csrf_token": token, "role": "mentee",
                                              "grade_max": "8", "gap_in": "KOM"})
    rnd = rounds.create(prog, coord, name="R")
    db.session.commit()
    data = {"csrf_token": token, "mentee_id": mentees[0].id, "mentor_id": junior.id}
    page = client.post(f"{base}/rounds/{rnd.id}/hand", data=data, follow_redirects=True)
    assert "Peringatan" in page.get_data(as_text=True) and not rnd.constraints
    page = client.post(f"{base}/rounds/{rnd.id}/hand", data={**data, "override_reason": "Expert"},
                       follow_redirects=True)
    db.session.expire_all()
    rnd = db.session.get(Round, rnd.id)
    assert [c.override_reason for c in rnd.constraints] == ["Expert"]
    assert ": Expert" in page.get_data(as_text=True)  # the reason is shown with the pair


def test_mentee_ranks_preferred_mentors(client, app):
    coord = f.user(("coordinator",))
    mentors, mentees = _people()
    me = f.user(("mentee",), person_row=mentees[0])
    db.session.commit()
    prog, token = _make_programme(client, coord)
    base = f"/programmes/{prog.id}"
    client.post(f"{base}/participants", data={"csrf_token": token, "role": "mentor",
                                              "grade_min": "13"})
    client.post(f"{base}/participants", data={"csrf_token": token, "role": "mentee",
                                              "grade_max": "8"})
    f.login(client, me)
    assert client.get(f"{base}/my-preferences").status_code == 404  # preferences are off
    prog.preferences_enabled = True
    db.session.commit()
    token = csrf_from(client, f"{base}/my-preferences")
    r = client.post(f"{base}/my-preferences", data={
        "csrf_token": token, "mentor_id": [str(mentors[1].id), str(mentors[0].id)]})
    assert r.status_code == 200
    from mentormatch.models import MentorPreference
    got = db.session.scalars(select(MentorPreference).order_by(MentorPreference.rank)).all()
    assert [(p.mentor_id, p.rank) for p in got] == [(mentors[1].id, 1), (mentors[0].id, 2)]
