"""Goals, level changes, feedback, evaluations (questions from config, when they open), ending
a pair early."""

from __future__ import annotations

from datetime import date, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

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
from mentormatch.services.logbook import LogInput
from mentormatch.services.participant_errors import FeedbackError, GoalError, LogError
from mentormatch.settings import settings
from tests import factories as f
from tests.helpers import csrf_from, set_settings
from tests.logbook.test_logbook import make_pair, make_session


def _log(pair, minutes=60, confirm=True, held_on=None):
    log, _ = logbook.submit_log(pair, pair.mentee, LogInput(
        held_on=held_on or utcnow().date() - timedelta(days=1), duration_minutes=minutes,
        topics=f"T{minutes}"))
    if confirm:
        logbook.confirm_log(log, pair.mentor)
    return log


def test_goals_and_level_changes(app):
    pair, other = make_pair(), make_pair()
    kom = by_code()["KOM"].id
    with pytest.raises(GoalError):
        goals.add_goal(pair, other.mentee, competency_id=kom, description="x", target_level=4,
                       due_date=None)
    for bad in (0, 6):
        with pytest.raises(GoalError):
            goals.add_goal(pair, pair.mentee, competency_id=kom, description="x",
                           target_level=bad, due_date=None)
    g = goals.add_goal(pair, pair.mentee, competency_id=kom, description="Presentasi",
                       target_level=4, due_date=date(2026, 9, 1))
    goals.record_level_change(pair, pair.mentor, competency_id=kom, new_level=3, note="Maju")
    goals.record_level_change(pair, pair.mentee, competency_id=kom, new_level=4, note=None)
    rows = {r.competency.code: r for r in goals.progress(pair)}
    # the mentee's own 4 is a self-assessment: the confirmed level stays the mentor's 3
    assert (rows["KOM"].before, rows["KOM"].now, rows["KOM"].required,
            rows["KOM"].target) == (2, 3, 4, 4)
    changes = goals.level_changes(pair)
    assert [(c.old_level, c.new_level) for c in changes] == [(3, 4), (2, 3)]
    assert [c.details["kind"] for c in changes] == ["self", "confirmed"]
    assert changes[0].competency.code == "KOM"
    goals.set_goal_status(g, pair.mentor, "achieved")
    assert g.status == "achieved"
    with pytest.raises(GoalError) as err:
        goals.set_goal_status(g, pair.mentor, "bogus")
    assert not isinstance(err.value, LogError)  # goals have their own error type
    with pytest.raises(GoalError):
        goals.record_level_change(pair, pair.mentee, competency_id=kom, new_level=9, note=None)


def test_feedback_both_sides_once(app):
    pair, other = make_pair(), make_pair()
    log = _log(pair, confirm=False)
    fb, created = feedback.give_feedback(log, pair.mentee, 5, "Bagus")
    again, created2 = feedback.give_feedback(log, pair.mentee, 1, "ubah")
    assert created and not created2 and again.id == fb.id and again.rating == 5
    feedback.give_feedback(log, pair.mentor, 4, None)
    for bad in (0, 6, -1):
        with pytest.raises(FeedbackError):
            feedback.give_feedback(log, pair.mentor, bad, None)
    with pytest.raises(FeedbackError):
        feedback.give_feedback(log, other.mentee, 3, None)
    assert db.session.scalar(select(func.count(Feedback.id))) == 2


def _answers(value="4"):
    answers = {q.key: value for q in feedback.questions()}
    answers["comment"] = "Lebih sering"
    return answers


def test_default_questions_come_from_config(app):
    keys = [q.key for q in feedback.questions()]
    assert {"berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif",
            "kolaboratif", "usefulness", "relevance", "time_burden", "comment"} == set(keys)
    assert settings(app).evaluation.questions[0].key == "berorientasi_pelayanan"
    q = feedback.questions()[0]
    assert "Berorientasi Pelayanan" in feedback.question_text(q, "id")
    assert feedback.question_text(q, "en").startswith("The mentoring")


def test_evaluation_answers_checked(app):
    pair = make_pair()  # half its period has passed: the mid-point evaluation is open
    with pytest.raises(FeedbackError):
        feedback.submit_evaluation(pair, pair.mentee, "mid", {**_answers(), "relevance": "7"})
    with pytest.raises(FeedbackError):
        feedback.submit_evaluation(pair, pair.mentee, "later", _answers())
    ev, created = feedback.submit_evaluation(pair, pair.mentee, "mid", _answers())
    assert created and ev.answers["usefulness"] == 4 and ev.answers["comment"] == "Lebih sering"
    _, created = feedback.submit_evaluation(pair, pair.mentee, "mid", _answers())
    assert not created


def test_configured_questions(app):
    set_settings(app, evaluation={"questions": [
        {"key": "q1", "kind": "rating", "en": "Q1", "id": "P1"}]})
    pair = make_pair(status="completed")
    ev, _ = feedback.submit_evaluation(pair, pair.mentor, "end", {"q1": "2"})
    assert ev.answers == {"q1": 2}
    # a malformed question stops the start (settings are validated when the app is built)
    for bad in ([{"key": "q1", "kind": "stars"}], [],
                [{"key": "q1", "kind": "text", "en": "Q1", "id": "P1"}] * 2):
        with pytest.raises(ValueError, match="evaluation.questions"):
            set_settings(app, evaluation={"questions": bad})
    assert [q.key for q in feedback.questions()] == ["q1"]


def test_evaluation_windows(app):
    today = utcnow().date()
    # A fresh pair: created today, programme ends in 60 days, 6 sessions planned.
    pair = make_pair(start=today - timedelta(days=30), end=today + timedelta(days=60),
                     created=utcnow())
    sessions = [make_session(pair, start=utcnow() + timedelta(days=7 * (i + 1)))
                for i in range(6)]
    w = feedback.evaluation_windows(pair, pair.mentee)
    assert not w["mid"].is_open and not w["end"].is_open
    assert w["mid"].opens_on == today + timedelta(days=30)
    assert (w["mid"].after_sessions, w["mid"].total_sessions, w["mid"].done_sessions) == (3, 6, 0)
    assert w["end"].opens_on == sessions[-1].start_at.date()
    with app.test_request_context():
        assert "setelah 3 dari 6 sesi" in w["mid"].text()
    with pytest.raises(FeedbackError) as err:
        feedback.submit_evaluation(pair, pair.mentee, "mid", _answers())
    assert err.value.code == "evaluation_not_open"
    for s in sessions[:3]:  # half the sessions held: the mid-point evaluation opens
        s.status = "held"
    db.session.flush()
    w = feedback.evaluation_windows(pair, pair.mentee)
    assert w["mid"].is_open and not w["end"].is_open
    feedback.end_pair(pair, pair.mentee, "Pindah tugas")
    assert feedback.evaluation_windows(pair, pair.mentee)["end"].is_open
    feedback.submit_evaluation(pair, pair.mentee, "end", _answers())


def _text(msg: OutboxMessage) -> str:
    return message_from_bytes(msg.raw, policy=default_policy).get_body(("plain",)).get_content()


def test_end_pair_notifies_coordinators_in_their_language(app):
    pair = make_pair()
    coord_id = f.user(("coordinator",))
    coord_en = f.user(("coordinator",))
    coord_en.locale = "en"
    for c in (coord_id, coord_en):
        db.session.add(ProgrammeCoordinator(programme_id=pair.programme_id, user_id=c.id))
    db.session.flush()
    with pytest.raises(FeedbackError):
        feedback.end_pair(pair, pair.mentee, " ")
    feedback.end_pair(pair, pair.mentee, "Mutasi ke kabupaten lain")
    assert pair.status == "ended" and pair.end_reason == "Mutasi ke kabupaten lain"
    rows = {m.recipient: m for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "pair_ended"))}
    assert set(rows) == {coord_id.email, coord_en.email}
    assert rows[coord_id.email].subject.startswith("Pasangan mentoring diakhiri lebih awal")
    assert rows[coord_en.email].subject.startswith("Mentoring pair ended early")
    assert "Mutasi ke kabupaten lain" in _text(rows[coord_id.email])
    assert "Alasan" in _text(rows[coord_id.email])
    with pytest.raises(FeedbackError):
        feedback.end_pair(pair, pair.mentee, "again")
    # an ended pair can still log what was held before
    _log(pair, held_on=utcnow().date() - timedelta(days=1))


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
    page = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert 'id="progress-chart"' in page and "bar before" in page and "bar required" in page
    assert "Sebelum" in page and "Sekarang" in page  # the legend, in Indonesian
    assert "Komunikasi" in page and ">Aktif<" in page  # names and statuses, never codes
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
    answers = {q.key: "3" for q in feedback.questions()}
    resp = client.post(f"/pairs/{pair.id}/evaluation/mid",
                       data={**answers, "relevance": "", "csrf_token": token})
    assert resp.status_code == 400
    assert "Mohon jawab setiap pertanyaan" in resp.get_data(as_text=True)
    resp = client.post(f"/pairs/{pair.id}/evaluation/mid", data={**answers, "csrf_token": token})
    assert resp.status_code == 302
    assert 'id="evaluation-done"' in client.get(
        f"/pairs/{pair.id}/evaluation/mid").get_data(as_text=True)
    page = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert 'id="evaluation-end"' in page and "Dibuka pada" in page  # when the end one opens
    closed = client.get(f"/pairs/{pair.id}/evaluation/end").get_data(as_text=True)
    assert 'id="evaluation-closed"' in closed and 'id="evaluation-form"' not in closed
    db.session.expire_all()
    assert db.session.scalar(select(func.count(LevelChange.id))) == 1
    assert db.session.scalar(select(func.count(Feedback.id))) == 1
    assert db.session.scalar(select(func.count(Evaluation.id))) == 1
    assert pair.goals[0].description == "Pidato"

    f.login(client, coord)  # coordinators read the plan but cannot act as members
    page = client.get(f"/pairs/{pair.id}")
    assert page.status_code == 200 and 'id="certificates"' in page.get_data(as_text=True)
    token = csrf_from(client, f"/pairs/{pair.id}")
    assert client.post(f"/pairs/{pair.id}/end",
                       data={"csrf_token": token, "reason": "x"}).status_code == 403

    f.login(client, mentor)
    token = csrf_from(client, f"/pairs/{pair.id}")
    resp = client.post(f"/pairs/{pair.id}/goals", data={"csrf_token": token, "competency_id": kom,
                                                        "target_level": "9", "description": "x"})
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Level berkisar dari 1 sampai 5" in page
    client.post(f"/pairs/{pair.id}/end", data={"csrf_token": token, "reason": "Pensiun"})
    db.session.expire_all()
    assert pair.status == "ended"
    assert db.session.scalar(select(func.count(OutboxMessage.id))
                             .where(OutboxMessage.kind == "pair_ended")) == 1
