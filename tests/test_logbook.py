"""Logbook service: submit, edit, confirm / dispute, JP credit, sessions and proposals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mentormatch.extensions import db
from mentormatch.models import Pair, Programme, Session, SessionLog, SessionSeries, utcnow
from mentormatch.services import logbook
from mentormatch.services.catalogue import by_code
from mentormatch.services.logbook import ActionInput, LogError, LogInput
from tests import factories as f

TODAY = date(2026, 6, 10)


def make_pair(*, jp_rule: dict | None = None, status: str = "active", prog=None) -> Pair:
    prog = prog or Programme(name="Mentoring 2026", start_date=date(2026, 1, 1),
                             end_date=date(2026, 12, 31), jp_rule=jp_rule or {})
    db.session.add(prog)
    mentor = f.person(grade=12, levels={"KOM": 4, "OPH": 4})
    mentee = f.person(grade=8, levels={"KOM": 2, "OPH": 3, "INT": 4},
                      required={"KOM": 4, "OPH": 3, "INT": 4})
    pair = Pair(programme=prog, mentor_id=mentor.id, mentee_id=mentee.id, status=status,
                focus=["KOM"])
    db.session.add(pair)
    db.session.flush()
    return pair


def make_session(pair: Pair, start: datetime | None = None, status: str = "scheduled") -> Session:
    start = start or datetime(2026, 6, 9, 2, 0, tzinfo=UTC)
    series = pair_series(pair)
    s = Session(recurrence_id=start, start_at=start, end_at=start + timedelta(hours=1),
                status=status)
    series.sessions.append(s)
    db.session.flush()
    return s


def pair_series(pair: Pair) -> SessionSeries:
    series = db.session.scalar(select(SessionSeries).where(SessionSeries.pair_id == pair.id))
    if series is None:
        series = SessionSeries(pair_id=pair.id, uid=f"uid-{pair.id}@test", tzid="Asia/Jakarta",
                               first_start=datetime(2026, 6, 2, 2, tzinfo=UTC),
                               duration_minutes=60, interval_weeks=1, count=6)
        db.session.add(series)
        db.session.flush()
    return series


def data(**kw) -> LogInput:
    base = {"held_on": date(2026, 6, 9), "duration_minutes": 60, "topics": "Rapat koordinasi"}
    base.update(kw)
    return LogInput(**base)


def test_submit_and_confirm_credits_jp(app):
    pair = make_pair()
    kom = by_code()["KOM"].id
    log, created = logbook.submit_log(
        pair, pair.mentee,
        data(competency_ids=[kom], notes="private",
             action_items=[ActionInput("Baca SOP", date(2026, 6, 20))]), today=TODAY)
    assert created and log.status == "submitted" and log.credited_minutes == 0
    assert [c.competency_id for c in log.competencies] == [kom]
    assert log.action_items[0].due_date == date(2026, 6, 20)
    assert logbook.jp_summary(pair.mentee_id, 2026).jp == 0
    logbook.confirm_log(log, pair.mentor)
    assert log.status == "confirmed" and log.credited_minutes == 60
    s = logbook.jp_summary(pair.mentee_id, 2026)
    assert (s.minutes, s.jp, s.target, s.sessions) == (60, Decimal(1), 20, 1)
    assert logbook.jp_summary(pair.mentor_id, 2026).jp == 1  # the mentor earns too
    assert logbook.jp_summary(pair.mentee_id, 2025).jp == 0
    assert s.percent == 5


def test_minutes_add_up_across_sessions_before_rounding(app):
    pair = make_pair()
    for day in (1, 2, 3):
        log, _ = logbook.submit_log(pair, pair.mentee, data(held_on=date(2026, 6, day),
                                                            duration_minutes=30), today=TODAY)
        logbook.confirm_log(log, pair.mentor)
    assert logbook.jp_summary(pair.mentee_id, 2026).jp == 2  # 90 minutes, not 3 x 0


def test_programme_rule_caps_and_rounds(app):
    pair = make_pair(jp_rule={"max_minutes_per_session": 90, "rounding": "half"})
    log, _ = logbook.submit_log(pair, pair.mentee, data(duration_minutes=300), today=TODAY)
    logbook.confirm_log(log, pair.mentor)
    assert log.credited_minutes == 90
    assert logbook.jp_summary(pair.mentee_id, 2026).jp == 2


def test_year_boundary(app):
    pair = make_pair()
    for held in (date(2025, 12, 31), date(2026, 1, 1)):
        log, _ = logbook.submit_log(pair, pair.mentee, data(held_on=held, duration_minutes=45),
                                    today=date(2026, 1, 1))
        logbook.confirm_log(log, pair.mentor)
    assert logbook.jp_summary(pair.mentee_id, 2025).jp == 1
    assert logbook.jp_summary(pair.mentee_id, 2026).jp == 1


@pytest.mark.parametrize(("kw", "code"), [
    ({"duration_minutes": -30}, "duration_too_short"),
    ({"duration_minutes": 0}, "duration_too_short"),
    ({"duration_minutes": 601}, "duration_too_long"),
    ({"duration_minutes": 100000}, "duration_too_long"),
    ({"topics": "  "}, "topics_required"),
    ({"held_on": date(2026, 7, 1)}, "future_date"),
    ({"competency_ids": [-1]}, "bad_competency"),
    ({"action_items": [ActionInput(" ")]}, "bad_action_item"),
])
def test_bad_input(app, kw, code):
    pair = make_pair()
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(**kw), today=TODAY)
    assert err.value.code == code
    assert db.session.scalar(select(func.count(SessionLog.id))) == 0


def test_competency_outside_gaps_rejected(app):
    pair = make_pair()
    with pytest.raises(LogError):  # INT: no gap and not in focus
        logbook.submit_log(pair, pair.mentee, data(competency_ids=[by_code()["INT"].id]),
                           today=TODAY)


def test_cancelled_session_cannot_be_logged(app):
    pair = make_pair()
    s = make_session(pair, status="cancelled")
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(session_id=s.id), today=TODAY)
    assert err.value.code == "session_not_held"


def test_other_pairs_session_rejected(app):
    pair, other = make_pair(), make_pair()
    s = make_session(other)
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(session_id=s.id), today=TODAY)
    assert err.value.code == "bad_session"


def test_duplicate_submits_make_one_log(app):
    pair = make_pair()
    s = make_session(pair)
    first, created = logbook.submit_log(pair, pair.mentee, data(session_id=s.id), today=TODAY)
    again, created_again = logbook.submit_log(pair, pair.mentee, data(session_id=s.id),
                                              today=TODAY)
    plain, _ = logbook.submit_log(pair, pair.mentee, data(topics="Lain"), today=TODAY)
    plain2, created3 = logbook.submit_log(pair, pair.mentee, data(topics="Lain "), today=TODAY)
    assert created and not created_again and again.id == first.id
    assert plain2.id == plain.id and not created3
    assert s.status == "held"
    assert db.session.scalar(select(func.count(SessionLog.id))) == 2


def test_only_mentee_logs_only_mentor_confirms(app):
    pair, other = make_pair(), make_pair()
    with pytest.raises(LogError):
        logbook.submit_log(pair, pair.mentor, data(), today=TODAY)
    log, _ = logbook.submit_log(pair, pair.mentee, data(), today=TODAY)
    for who in (pair.mentee, other.mentor):
        with pytest.raises(LogError) as err:
            logbook.confirm_log(log, who)
        assert err.value.code == "not_mentor"
    assert log.status == "submitted"


def test_dispute_edit_confirm_and_lock(app):
    pair = make_pair()
    log, _ = logbook.submit_log(pair, pair.mentee, data(duration_minutes=120), today=TODAY)
    with pytest.raises(LogError):
        logbook.dispute_log(log, pair.mentor, "  ")
    logbook.dispute_log(log, pair.mentor, "Kita hanya bertemu 60 menit")
    assert log.status == "disputed" and log.dispute_comment
    logbook.update_log(log, pair.mentee, data(duration_minutes=60), today=TODAY)
    assert log.status == "submitted" and log.duration_minutes == 60 and not log.dispute_comment
    logbook.confirm_log(log, pair.mentor)
    logbook.confirm_log(log, pair.mentor)  # idempotent
    with pytest.raises(LogError) as err:
        logbook.update_log(log, pair.mentee, data(duration_minutes=90), today=TODAY)
    assert err.value.code == "already_confirmed"
    with pytest.raises(LogError):
        logbook.dispute_log(log, pair.mentor, "late")


def test_inactive_pair_cannot_log(app):
    pair = make_pair(status="invited")
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(), today=TODAY)
    assert err.value.code == "pair_inactive"


def test_notes_visibility_for_coordinator(app):
    pair = make_pair()
    coord = f.user(("coordinator",))
    from mentormatch.models import ProgrammeCoordinator

    db.session.add(ProgrammeCoordinator(programme_id=pair.programme_id, user_id=coord.id))
    mentee_user = f.user(("mentee",), person_row=pair.mentee)
    log, _ = logbook.submit_log(pair, pair.mentee, data(notes="rahasia"), today=TODAY)
    db.session.flush()
    assert logbook.notes_visible(mentee_user, log)
    assert not logbook.notes_visible(coord, log)
    log.notes_visible_to_coordinator = True
    assert logbook.notes_visible(coord, log)


def test_mark_session_and_proposals(app):
    pair = make_pair()
    past = make_session(pair, start=utcnow() - timedelta(days=1))
    future = make_session(pair, start=utcnow() + timedelta(days=7))
    with pytest.raises(LogError):
        logbook.mark_session(past, pair.mentee, True)
    with pytest.raises(LogError) as err:
        logbook.mark_session(future, pair.mentor, True)
    assert err.value.code == "session_in_future"
    logbook.mark_session(past, pair.mentor, False)
    assert past.status == "not_held"
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(session_id=past.id, held_on=utcnow().date()))
    assert err.value.code == "session_not_held"
    new = utcnow() + timedelta(days=8)
    with pytest.raises(LogError):
        logbook.propose_time(future, pair.mentee, new)
    with pytest.raises(LogError):
        logbook.propose_time(future, pair.mentor, utcnow() - timedelta(hours=1))
    logbook.propose_time(future, pair.mentor, new)
    assert future.proposed_start == new
    logbook.answer_proposal(future, pair.mentee, accept=False)
    assert future.proposed_start is None
    with pytest.raises(LogError):
        logbook.answer_proposal(future, pair.mentee, accept=True)
