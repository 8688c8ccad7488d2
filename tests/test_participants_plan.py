"""Goals, level changes, feedback, evaluations, ending a pair early, the certificate."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from mentormatch.extensions import db
from mentormatch.models import (
    Evaluation,
    Feedback,
    LevelChange,
    OutboxMessage,
    ProgrammeCoordinator,
    utcnow,
)
from mentormatch.services import feedback, goals, logbook
from mentormatch.services.catalogue import by_code
from mentormatch.services.logbook import LogError, LogInput
from tests import factories as f
from tests.helpers import csrf_from
from tests.test_logbook import make_pair


def _log(pair, minutes=60, confirm=True, held_on=None):
    log, _ = logbook.submit_log(pair, pair.mentee, LogInput(
        held_on=held_on or utcnow().date(), duration_minutes=minutes, topics=f"T{minutes}"))
    if confirm:
        logbook.confirm_log(log, pair.mentor)
    return log


def test_goals_and_level_changes(app):
    pair, other = make_pair(), make_pair()
    kom = by_code()["KOM"].id
    with pytest.raises(LogError):
        goals.add_goal(pair, other.mentee, competency_id=kom, description="x", target_level=4,
                       due_date=None)
    for bad in (0, 6):
        with pytest.raises(LogError):
            goals.add_goal(pair, pair.mentee, competency_id=kom, description="x",
                           target_level=bad, due_date=None)
    g = goals.add_goal(pair, pair.mentee, competency_id=kom, description="Presentasi",
                       target_level=4, due_date=date(2026, 9, 1))
    goals.record_level_change(pair, pair.mentor, competency_id=kom, new_level=3, note="Maju")
    goals.record_level_change(pair, pair.mentee, competency_id=kom, new_level=4, note=None)
    rows = {r.competency.code: r for r in goals.progress(pair)}
    assert (rows["KOM"].before, rows["KOM"].now, rows["KOM"].target) == (2, 4, 4)
    changes = goals.level_changes(pair)
    assert [(c.old_level, c.new_level) for c in changes] == [(3, 4), (2, 3)]
    goals.set_goal_status(g, pair.mentor, "achieved")
    assert g.status == "achieved"
    with pytest.raises(LogError):
        goals.set_goal_status(g, pair.mentor, "bogus")
    with pytest.raises(LogError):
        goals.record_level_change(pair, pair.mentee, competency_id=kom, new_level=9, note=None)


def test_feedback_both_sides_once(app):
    pair, other = make_pair(), make_pair()
    log = _log(pair, confirm=False)
    fb, created = feedback.give_feedback(log, pair.mentee, 5, "Bagus")
    again, created2 = feedback.give_feedback(log, pair.mentee, 1, "ubah")
    assert created and not created2 and again.id == fb.id and again.rating == 5
    feedback.give_feedback(log, pair.mentor, 4, None)
    for bad in (0, 6, -1):
        with pytest.raises(LogError):
            feedback.give_feedback(log, pair.mentor, bad, None)
    with pytest.raises(LogError):
        feedback.give_feedback(log, other.mentee, 3, None)
    assert db.session.scalar(select(func.count(Feedback.id))) == 2


def test_evaluation_default_questions(app):
    pair = make_pair()
    keys = [q["key"] for q in feedback.questions()]
    assert {"kompeten", "usefulness", "relevance", "time_burden"} <= set(keys)
    answers = {k: "4" for k in keys}
    answers["comment"] = "Lebih sering"
    with pytest.raises(LogError):
        feedback.submit_evaluation(pair, pair.mentee, "mid", {**answers, "relevance": "7"})
    with pytest.raises(LogError):
        feedback.submit_evaluation(pair, pair.mentee, "later", answers)
    ev, created = feedback.submit_evaluation(pair, pair.mentee, "mid", answers)
    assert created and ev.answers["usefulness"] == 4 and ev.answers["comment"] == "Lebih sering"
    _, created = feedback.submit_evaluation(pair, pair.mentee, "mid", answers)
    assert not created


def test_configured_questions(app):
    app.config["MM"].setdefault("evaluation", {})["questions"] = [
        {"key": "q1", "kind": "rating", "en": "Q1", "id": "P1"}]
    try:
        pair = make_pair()
        ev, _ = feedback.submit_evaluation(pair, pair.mentor, "end", {"q1": "2"})
        assert ev.answers == {"q1": 2}
    finally:
        app.config["MM"]["evaluation"].pop("questions")


def test_end_pair_notifies_coordinator(app):
    pair = make_pair()
    coord = f.user(("coordinator",))
    db.session.add(ProgrammeCoordinator(programme_id=pair.programme_id, user_id=coord.id))
    db.session.flush()
    with pytest.raises(LogError):
        feedback.end_pair(pair, pair.mentee, " ")
    feedback.end_pair(pair, pair.mentee, "Mutasi ke kabupaten lain")
    assert pair.status == "ended" and pair.end_reason == "Mutasi ke kabupaten lain"
    msg = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "pair_ended")).one()
    assert msg.recipient == coord.email
    with pytest.raises(LogError):
        feedback.end_pair(pair, pair.mentee, "again")
    # an ended pair can still log what was held before
    _log(pair, held_on=utcnow().date() - timedelta(days=1))


def test_certificate_totals(app):
    pair = make_pair()
    _log(pair, 60)
    _log(pair, 90)
    _log(pair, 45, confirm=False)
    lines, minutes, total = feedback.certificate(pair.mentee)
    assert minutes == 150 and total == 3 and lines[0].sessions == 2
    lines, minutes, total = feedback.certificate(pair.mentor, year=utcnow().year - 1)
    assert (lines, minutes, total) == ([], 0, 0)


def test_plan_pages_http(app, client):
    pair, other = make_pair(), make_pair()
    mentee = f.user(("mentee",), person_row=pair.mentee)
    mentor = f.user(("mentor",), person_row=pair.mentor)
    outsider = f.user(("mentee",), person_row=other.mentee)
    coord = f.user(("coordinator",))
    db.session.add(ProgrammeCoordinator(programme_id=pair.programme_id, user_id=coord.id))
    log = _log(pair, 90)
    db.session.commit()
    kom = str(by_code()["KOM"].id)

    f.login(client, outsider)
    assert client.get(f"/pairs/{pair.id}").status_code == 404
    assert client.get(f"/pairs/{pair.id}/evaluation/mid").status_code == 404

    f.login(client, mentee)
    page = client.get(f"/pairs/{pair.id}")
    assert page.status_code == 200 and 'id="progress-chart"' in page.get_data(as_text=True)
    token = csrf_from(client, f"/pairs/{pair.id}")
    client.post(f"/pairs/{pair.id}/goals", data={"csrf_token": token, "competency_id": kom,
                                                 "target_level": "4", "description": "Pidato",
                                                 "due_date": "2026-12-01"})
    client.post(f"/pairs/{pair.id}/levels", data={"csrf_token": token, "competency_id": kom,
                                                  "new_level": "3", "note": "Lebih percaya diri"})
    client.post(f"/logs/{log.id}/feedback", data={"csrf_token": token, "rating": "5",
                                                  "comment": "Sangat membantu"})
    bad = client.post(f"/logs/{log.id}/feedback", data={"csrf_token": token, "rating": "9"})
    assert bad.status_code == 302
    answers = {q["key"]: "3" for q in feedback.questions()}
    resp = client.post(f"/pairs/{pair.id}/evaluation/mid",
                       data={**answers, "relevance": "", "csrf_token": token})
    assert resp.status_code == 400
    resp = client.post(f"/pairs/{pair.id}/evaluation/mid", data={**answers, "csrf_token": token})
    assert resp.status_code == 302
    assert 'id="evaluation-done"' in client.get(
        f"/pairs/{pair.id}/evaluation/mid").get_data(as_text=True)
    cert = client.get("/certificate").get_data(as_text=True)
    assert "@media print" in cert and "01:30" in cert and "2 JP" in cert
    db.session.expire_all()
    assert db.session.scalar(select(func.count(LevelChange.id))) == 1
    assert db.session.scalar(select(func.count(Feedback.id))) == 1
    assert db.session.scalar(select(func.count(Evaluation.id))) == 1
    assert pair.goals[0].description == "Pidato"

    f.login(client, coord)  # coordinators read the plan but cannot act as members
    assert client.get(f"/pairs/{pair.id}").status_code == 200
    token = csrf_from(client, f"/pairs/{pair.id}")
    assert client.post(f"/pairs/{pair.id}/end",
                       data={"csrf_token": token, "reason": "x"}).status_code == 403

    f.login(client, mentor)
    token = csrf_from(client, f"/pairs/{pair.id}")
    client.post(f"/pairs/{pair.id}/end", data={"csrf_token": token, "reason": "Pensiun"})
    db.session.expire_all()
    assert pair.status == "ended"
    assert db.session.scalar(select(func.count(OutboxMessage.id))
                             .where(OutboxMessage.kind == "pair_ended")) == 1
