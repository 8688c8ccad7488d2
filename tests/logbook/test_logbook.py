"""Logbook service: submit, edit, confirm / dispute, JP credit, dates, limits, sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from mentormatch.calendar.holidays import holiday_name
from mentormatch.extensions import db
from mentormatch.models import (
    Pair,
    Programme,
    ProgrammeCoordinator,
    Session,
    SessionLog,
    SessionSeries,
    utcnow,
)
from mentormatch.services import jp, logbook
from mentormatch.services.catalogue import by_code
from mentormatch.services.logbook import ActionInput, LogError, LogInput
from tests import factories as f

ZONES = {"Asia/Jakarta": ("Padang (Pauh)", "Padang"), "Asia/Makassar": ("Palu", "Palu"),
         "Asia/Jayapura": ("Jayapura", "Jayapura")}


def programme(*, start: date | None = None, end: date | None = None,
              jp_rule: dict | None = None, name: str = "Mentoring") -> Programme:
    today = utcnow().date()
    prog = Programme(name=name, start_date=start or today - timedelta(days=120),
                     end_date=end or today + timedelta(days=120), jp_rule=jp_rule or {})
    db.session.add(prog)
    db.session.flush()
    return prog


def person(tz: str = "Asia/Jakarta", **kw):
    name, city = ZONES[tz]
    return f.person(loc=f.location(name, city, tz), **kw)


def make_pair(*, jp_rule: dict | None = None, status: str = "active", prog=None,
              start: date | None = None, end: date | None = None, mentor=None, mentee=None,
              mentor_tz: str = "Asia/Jakarta", mentee_tz: str = "Asia/Jakarta",
              created: datetime | None = None) -> Pair:
    """An approved pair; it "started" on the programme's start date unless told otherwise."""
    prog = prog or programme(start=start, end=end, jp_rule=jp_rule)
    mentor = mentor or person(mentor_tz, grade=12, levels={"KOM": 4, "OPH": 4})
    mentee = mentee or person(mentee_tz, grade=8, levels={"KOM": 2, "OPH": 3, "INT": 4},
                              required={"KOM": 4, "OPH": 3, "INT": 4})
    pair = Pair(programme=prog, mentor_id=mentor.id, mentee_id=mentee.id, status=status,
                focus=["KOM"],
                created_at=created or datetime.combine(prog.start_date, time(1), UTC))
    db.session.add(pair)
    db.session.flush()
    return pair


def pair_series(pair: Pair) -> SessionSeries:
    series = db.session.scalar(select(SessionSeries).where(SessionSeries.pair_id == pair.id))
    if series is None:
        series = SessionSeries(pair_id=pair.id, uid=f"uid-{pair.id}@test", tzid="Asia/Jakarta",
                               first_start=datetime.combine(pair.programme.start_date, time(2),
                                                            UTC),
                               duration_minutes=60, interval_weeks=1, count=6)
        db.session.add(series)
        db.session.flush()
    return series


def make_session(pair: Pair, start: datetime | None = None, status: str = "scheduled",
                 minutes: int = 60) -> Session:
    start = start or utcnow() - timedelta(days=1)
    series = pair_series(pair)
    s = Session(recurrence_id=start, start_at=start, end_at=start + timedelta(minutes=minutes),
                status=status)
    series.sessions.append(s)
    db.session.flush()
    return s


def workday(days_ahead: int, hour: int, minute: int = 0, tz: str = "Asia/Jakarta",
            weekday: int = 1) -> datetime:
    """A UTC instant `hour:minute` local on a non-holiday `weekday` at least `days_ahead` ahead."""
    day = utcnow().date() + timedelta(days=days_ahead)
    while day.weekday() != weekday or holiday_name(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(hour, minute), ZoneInfo(tz)).astimezone(UTC)


def yesterday() -> date:
    return utcnow().date() - timedelta(days=1)


def data(**kw) -> LogInput:
    base = {"held_on": yesterday(), "duration_minutes": 60, "topics": "Rapat koordinasi"}
    base.update(kw)
    return LogInput(**base)


def count_logs() -> int:
    return db.session.scalar(select(func.count(SessionLog.id)))


def test_submit_and_confirm_credits_jp(app):
    pair = make_pair()
    kom = by_code()["KOM"].id
    log, created = logbook.submit_log(
        pair, pair.mentee,
        data(competency_ids=[kom], notes="private",
             action_items=[ActionInput("Baca SOP", utcnow().date() + timedelta(days=10))]))
    assert created and log.status == "submitted" and log.credited_minutes == 0
    assert [c.competency_id for c in log.competencies] == [kom]
    year = yesterday().year
    assert jp.person_jp(pair.mentee_id, year=year).jp == 0
    logbook.confirm_log(log, pair.mentor)
    assert log.status == "confirmed" and log.credited_minutes == 60
    s = jp.person_jp(pair.mentee_id, year=year)
    assert (s.minutes, s.jp, s.target, s.sessions) == (60, Decimal(1), 20, 1)
    assert jp.person_jp(pair.mentor_id, year=year).jp == 1  # the mentor earns too
    assert jp.person_jp(pair.mentee_id, year=year - 1).jp == 0
    assert s.percent == 5


def test_minutes_add_up_across_sessions_before_rounding(app):
    pair = make_pair(start=date(2026, 1, 1), end=date(2026, 12, 31))
    now = datetime(2026, 6, 10, 5, tzinfo=UTC)
    for day in (1, 2, 3):
        log, _ = logbook.submit_log(pair, pair.mentee, data(held_on=date(2026, 6, day),
                                                            duration_minutes=30), now=now)
        logbook.confirm_log(log, pair.mentor)
    assert jp.person_jp(pair.mentee_id, year=2026).jp == 2  # 90 minutes, not 3 x 0


def test_programme_rule_caps_and_rounds(app):
    pair = make_pair(jp_rule={"max_minutes_per_session": 90, "rounding": "half"})
    log, _ = logbook.submit_log(pair, pair.mentee, data(duration_minutes=300))
    logbook.confirm_log(log, pair.mentor)
    assert log.credited_minutes == 90
    assert jp.person_jp(pair.mentee_id, year=yesterday().year).jp == 2


def test_year_boundary(app):
    pair = make_pair(start=date(2025, 6, 1), end=date(2026, 6, 30))
    now = datetime(2026, 1, 2, 3, tzinfo=UTC)
    for held in (date(2025, 12, 31), date(2026, 1, 1)):
        log, _ = logbook.submit_log(pair, pair.mentee, data(held_on=held, duration_minutes=45),
                                    now=now)
        logbook.confirm_log(log, pair.mentor)
    assert jp.person_jp(pair.mentee_id, year=2025).jp == 1
    assert jp.person_jp(pair.mentee_id, year=2026).jp == 1


def test_programme_target_overrides_config(app):
    pair = make_pair(jp_rule={"yearly_target_jp": 12})
    assert jp.person_jp(pair.mentee_id, year=utcnow().year).target == 12
    other = f.person()
    assert jp.person_jp(other.id, year=utcnow().year).target == 20  # config [jp]


@pytest.mark.parametrize(("kw", "code"), [
    ({"duration_minutes": -30}, "duration_too_short"),
    ({"duration_minutes": 0}, "duration_too_short"),
    ({"duration_minutes": 601}, "duration_too_long"),
    ({"duration_minutes": 100000}, "duration_too_long"),
    ({"topics": "  "}, "topics_required"),
    ({"held_on": utcnow().date() + timedelta(days=1)}, "future_date"),
    ({"held_on": utcnow().date() - timedelta(days=400)}, "before_pair_start"),
    ({"competency_ids": [-1]}, "bad_competency"),
    ({"action_items": [ActionInput(" ")]}, "bad_action_item"),
])
def test_bad_input(app, kw, code):
    pair = make_pair()
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(**kw))
    assert err.value.code == code
    with app.test_request_context():
        assert err.value.message() and err.value.message() != code  # a sentence, not the code
    assert count_logs() == 0


def test_date_window_pair_start_and_programme_end(app):
    today = utcnow().date()
    # The pair was approved 10 days ago; the first session was 12 days ago (earlier counts).
    pair = make_pair(start=today - timedelta(days=100), end=today - timedelta(days=40),
                     created=utcnow() - timedelta(days=10))
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(held_on=today - timedelta(days=11)))
    assert err.value.code == "before_pair_start"
    make_session(pair, start=utcnow() - timedelta(days=12))
    with pytest.raises(LogError) as err:  # programme ended 40 days ago; grace is 30 days
        logbook.submit_log(pair, pair.mentee, data(held_on=today - timedelta(days=5)))
    assert err.value.code == "after_programme_end"
    assert logbook.date_window(pair, pair.mentee) == (today - timedelta(days=12),
                                                      today - timedelta(days=10))
    log, _ = logbook.submit_log(pair, pair.mentee, data(held_on=today - timedelta(days=11)))
    assert log.id


def test_local_date_decides_future(app):
    """16:30 UTC: still the 10th in Jakarta (WIB), already the 11th in Jayapura (WIT)."""
    now = datetime(2026, 6, 10, 16, 30, tzinfo=UTC)
    prog = programme(start=date(2026, 1, 1), end=date(2026, 12, 31))
    wit = make_pair(prog=prog, mentee_tz="Asia/Jayapura")
    wib = make_pair(prog=prog)
    log, _ = logbook.submit_log(wit, wit.mentee, data(held_on=date(2026, 6, 11)), now=now)
    assert log.held_on == date(2026, 6, 11)
    with pytest.raises(LogError) as err:
        logbook.submit_log(wib, wib.mentee, data(held_on=date(2026, 6, 11)), now=now)
    assert err.value.code == "future_date" and err.value.params["today"] == date(2026, 6, 10)
    assert logbook.local_today(wit.mentee, now) == date(2026, 6, 11)


def test_future_session_cannot_be_logged(app):
    pair = make_pair()
    later = make_session(pair, start=utcnow() + timedelta(hours=2))
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(held_on=utcnow().date(),
                                                   session_id=later.id))
    assert err.value.code == "session_not_started"
    assert later.status == "scheduled" and count_logs() == 0


def test_log_marks_started_session_held(app):
    pair = make_pair()
    past = make_session(pair, start=utcnow() - timedelta(hours=3))
    logbook.submit_log(pair, pair.mentee, data(held_on=past.start_at.date(),
                                               session_id=past.id))
    assert past.status == "held"


def test_competency_outside_gaps_rejected(app):
    pair = make_pair()
    with pytest.raises(LogError):  # INT: no gap and not in focus
        logbook.submit_log(pair, pair.mentee, data(competency_ids=[by_code()["INT"].id]))


def test_cancelled_session_cannot_be_logged(app):
    pair = make_pair()
    s = make_session(pair, status="cancelled")
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(session_id=s.id))
    assert err.value.code == "session_not_held"


def test_other_pairs_session_rejected(app):
    pair, other = make_pair(), make_pair()
    s = make_session(other)
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(session_id=s.id))
    assert err.value.code == "bad_session"


def test_idempotency_token_not_content(app):
    pair = make_pair()
    first, created = logbook.submit_log(pair, pair.mentee, data(token="tok-1"))
    again, created_again = logbook.submit_log(pair, pair.mentee, data(token="tok-1"))
    assert created and not created_again and again.id == first.id
    # A genuine second session on the same day with the same duration and topics is kept.
    second, created2 = logbook.submit_log(pair, pair.mentee, data(token="tok-2"))
    untokened, created3 = logbook.submit_log(pair, pair.mentee, data())
    assert created2 and created3 and len({first.id, second.id, untokened.id}) == 3
    assert count_logs() == 3


def test_a_session_has_one_log(app):
    pair = make_pair()
    s = make_session(pair)
    logbook.submit_log(pair, pair.mentee, data(held_on=s.start_at.date(), session_id=s.id,
                                               token="a"))
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(held_on=s.start_at.date(),
                                                   session_id=s.id, token="b"))
    assert err.value.code == "already_logged"


def test_daily_limit(app):
    pair = make_pair()
    day = yesterday()
    logs = [logbook.submit_log(pair, pair.mentee, data(duration_minutes=120, token=str(i)))[0]
            for i in range(4)]  # 480 minutes: the configured limit
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(duration_minutes=1, token="5"))
    assert err.value.code == "daily_limit"
    assert err.value.params == {"limit": 480, "used": 480, "date": day}
    with app.test_request_context():
        assert "480" in err.value.message()
        assert day.isoformat() not in err.value.message()  # the reader's format: "9 Sep 2026"
    with pytest.raises(LogError):  # 5 x 600 minutes: the first is refused already
        logbook.submit_log(pair, pair.mentee,
                           data(held_on=day - timedelta(days=1), duration_minutes=600))
    # editing a log counts the others, not itself
    logbook.update_log(logs[0], pair.mentee, data(duration_minutes=100))
    with pytest.raises(LogError):
        logbook.update_log(logs[0], pair.mentee, data(duration_minutes=121))
    # a disputed log no longer counts (it is being corrected)
    logbook.dispute_log(logs[1], pair.mentor, "Tidak ada sesi")
    log, _ = logbook.submit_log(pair, pair.mentee, data(duration_minutes=140, token="6"))
    assert log.id and count_logs() == 5


def test_only_mentee_logs_only_mentor_confirms(app):
    pair, other = make_pair(), make_pair()
    with pytest.raises(LogError):
        logbook.submit_log(pair, pair.mentor, data())
    log, _ = logbook.submit_log(pair, pair.mentee, data())
    for who in (pair.mentee, other.mentor):
        with pytest.raises(LogError) as err:
            logbook.confirm_log(log, who)
        assert err.value.code == "not_mentor"
    assert log.status == "submitted"


def test_dispute_edit_confirm_and_lock(app):
    pair = make_pair()
    log, _ = logbook.submit_log(pair, pair.mentee, data(duration_minutes=120))
    with pytest.raises(LogError):
        logbook.dispute_log(log, pair.mentor, "  ")
    logbook.dispute_log(log, pair.mentor, "Kita hanya bertemu 60 menit")
    assert log.status == "disputed" and log.dispute_comment
    logbook.update_log(log, pair.mentee, data(duration_minutes=60))
    assert log.status == "submitted" and log.duration_minutes == 60 and not log.dispute_comment
    logbook.confirm_log(log, pair.mentor)
    logbook.confirm_log(log, pair.mentor)  # idempotent
    with pytest.raises(LogError) as err:
        logbook.update_log(log, pair.mentee, data(duration_minutes=90))
    assert err.value.code == "already_confirmed"
    with pytest.raises(LogError):
        logbook.dispute_log(log, pair.mentor, "late")


def test_inactive_pair_cannot_log(app):
    pair = make_pair(status="invited")
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data())
    assert err.value.code == "pair_inactive"


def test_notes_visibility_is_per_log(app):
    pair = make_pair()
    coord = f.user(("coordinator",))
    db.session.add(ProgrammeCoordinator(programme_id=pair.programme_id, user_id=coord.id))
    mentee_user = f.user(("mentee",), person_row=pair.mentee)
    log, _ = logbook.submit_log(pair, pair.mentee, data(notes="rahasia"))
    db.session.flush()
    assert logbook.notes_visible(mentee_user, log)
    assert not logbook.notes_visible(coord, log)
    log.notes_visible_to_coordinator = True
    assert logbook.notes_visible(coord, log)
    assert not hasattr(Pair, "notes_shared_with_coordinator")  # one mechanism only


def test_not_held_refused_after_confirmed_or_pending_log(app):
    pair = make_pair()
    s = make_session(pair)
    log, _ = logbook.submit_log(pair, pair.mentee, data(held_on=s.start_at.date(),
                                                        session_id=s.id))
    with pytest.raises(LogError) as err:
        logbook.mark_session(s, pair.mentor, False)
    assert err.value.code == "session_has_pending_log"
    logbook.confirm_log(log, pair.mentor)
    with pytest.raises(LogError) as err:
        logbook.mark_session(s, pair.mentor, False)
    assert err.value.code == "session_has_confirmed_log"
    with app.test_request_context():
        assert "JP" in err.value.message()
    assert s.status == "held" and log.credited_minutes == 60
    assert jp.person_jp(pair.mentee_id, year=s.start_at.year).minutes == 60


def test_disputed_log_then_not_held_cannot_be_confirmed(app):
    pair = make_pair()
    s = make_session(pair)
    log, _ = logbook.submit_log(pair, pair.mentee, data(held_on=s.start_at.date(),
                                                        session_id=s.id))
    logbook.dispute_log(log, pair.mentor, "Sesi ini tidak terjadi")
    logbook.mark_session(s, pair.mentor, False)
    assert s.status == "not_held"
    with pytest.raises(LogError) as err:
        logbook.confirm_log(log, pair.mentor)
    assert err.value.code == "log_session_not_held"
    assert log.credited_minutes == 0


def test_mark_session_and_proposals(app):
    pair = make_pair()
    past = make_session(pair, start=utcnow() - timedelta(days=1))
    future = make_session(pair, start=workday(7, 9))
    with pytest.raises(LogError):
        logbook.mark_session(past, pair.mentee, True)
    with pytest.raises(LogError) as err:
        logbook.mark_session(future, pair.mentor, True)
    assert err.value.code == "session_in_future"
    logbook.mark_session(past, pair.mentor, False)
    assert past.status == "not_held"
    with pytest.raises(LogError) as err:
        logbook.submit_log(pair, pair.mentee, data(session_id=past.id))
    assert err.value.code == "session_not_held"
    new = workday(8, 10)
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
