"""Object-level access on every route: on a populated database (the demo world: programmes,
rounds, pairs, series, sessions, logs, goals), people with no business there - a mentee who
takes part in nothing, a coordinator of no programme, a mentor of another pair - call every
URL that names an object, GET and POST (with a valid CSRF token). None may see a page of it
(200) or change anything: the answer is 403/404 (or a redirect that changed nothing), and the
row counts of every table are the same afterwards."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from mentormatch.extensions import db
from mentormatch.models import (
    Attendee,
    Goal,
    Pair,
    Participant,
    Person,
    Programme,
    Proposal,
    Round,
    Session,
    SessionLog,
    SessionSeries,
    User,
)
from mentormatch.services.demo import seed_demo
from tests import factories as f
from tests.helpers import csrf_from

# Routes open to anyone signed in by design (their own data, or nothing object-specific).
OWN_DATA = {"participants.mentor_home", "participants.mentee_home", "calendar.feed_page",
            "calendar.upload", "home.index", "home.language", "auth.logout",
            "participants.certificate"}
TOKEN_ARGS = {"token", "name", "filename"}  # bearer-token and static routes: tested elsewhere


def _ids(pair: Pair) -> dict[str, object]:
    series = db.session.scalar(select(SessionSeries).where(SessionSeries.pair_id == pair.id))
    rnd = db.session.get(Round, pair.round_id)
    return {
        "pid": pair.programme_id, "programme_id": pair.programme_id, "rid": rnd.id,
        "proposal_id": db.session.scalar(select(Proposal.id).where(
            Proposal.round_id == rnd.id)),
        "pair_id": pair.id, "series_id": series.id,
        "session_id": db.session.scalar(select(Session.id).where(
            Session.series_id == series.id)),
        "attendee_id": db.session.scalar(select(Attendee.id).where(
            Attendee.series_id == series.id, Attendee.role == "mentor")),
        "log_id": db.session.scalar(select(SessionLog.id).where(
            SessionLog.pair_id == pair.id)),
        "goal_id": db.session.scalar(select(Goal.id).where(Goal.pair_id == pair.id)),
        "participant_id": db.session.scalar(select(Participant.id).where(
            Participant.programme_id == pair.programme_id)),
        "person_id": pair.mentee_id, "user_id": db.session.scalar(select(User.id)),
        "row_id": 1, "kind": "pairs", "fmt": "csv", "stage": "mid",
    }


def _counts() -> dict[str, int]:
    return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar()
            for t in db.metadata.sorted_tables}


@pytest.fixture
def world(app):
    with app.test_request_context(base_url="http://127.0.0.1"):
        seed_demo(mentors=8, mentees=16)
    pair = db.session.scalars(select(Pair).join(SessionLog, SessionLog.pair_id == Pair.id)
                              .order_by(Pair.id)).first()
    if db.session.scalar(select(Goal.id).where(Goal.pair_id == pair.id)) is None:
        comp = pair.mentee.competencies[0]
        db.session.add(Goal(pair_id=pair.id, competency_id=comp.competency_id,
                            description="Naik satu level", target_level=comp.current_level + 1))
    db.session.commit()
    return pair


def _outsiders(pair: Pair) -> dict[str, User]:
    loner = f.person("Tidak Ikut Program", email="tidak.ikut@example.go.id")
    other_pair = db.session.scalars(select(Pair).where(
        Pair.mentor_id != pair.mentor_id, Pair.mentee_id != pair.mentee_id,
        Pair.programme_id == pair.programme_id)).first()
    other_mentor = db.session.get(Person, other_pair.mentor_id)
    users = {
        "mentee_of_nothing": f.user(("mentee",), person_row=loner),
        "coordinator_elsewhere": f.user(("coordinator",), email="koord.lain@example.go.id"),
        "mentor_of_another_pair": db.session.scalar(
            select(User).where(User.person_id == other_mentor.id))
        or f.user(("mentor",), person_row=other_mentor),
    }
    # the other coordinator runs a programme of their own, not this one
    prog = Programme(name="Program lain", start_date=pair.programme.start_date,
                     end_date=pair.programme.end_date)
    db.session.add(prog)
    db.session.flush()
    from mentormatch.models import ProgrammeCoordinator

    db.session.add(ProgrammeCoordinator(programme_id=prog.id,
                                        user_id=users["coordinator_elsewhere"].id))
    db.session.commit()
    return users


def _url(rule, ids: dict[str, object]) -> str | None:
    if set(rule.arguments) & TOKEN_ARGS or not rule.arguments:
        return None
    if any(ids.get(a) is None for a in rule.arguments):
        return None
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(r"<(?:[a-z]+:)?" + arg + ">", str(ids[arg]), path)
    return path


def test_nobody_reaches_anothers_objects(app, client, world):
    ids = _ids(world)
    assert all(ids[k] is not None for k in ("log_id", "goal_id", "session_id", "attendee_id"))
    users = _outsiders(world)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in OWN_DATA]
    tried = 0
    for who, user in users.items():
        f.login(client, user)
        token = csrf_from(client, "/")
        before = _counts()
        for rule in rules:
            path = _url(rule, ids)
            if path is None:
                continue
            if who == "coordinator_elsewhere" and rule.endpoint == "people.show":
                continue  # staff browse every profile by design (they build the programmes)
            for method in sorted(rule.methods & {"GET", "POST"}):
                if method == "GET":
                    resp = client.get(path)
                else:
                    resp = client.post(path, data={"csrf_token": token, "stage": "mid",
                                                   "comment": "x", "reason": "x",
                                                   "rating": "5", "held": "1"})
                tried += 1
                assert resp.status_code in (403, 404), (who, method, path, resp.status_code)
        db.session.expire_all()
        assert _counts() == before, who
    assert tried > 100
