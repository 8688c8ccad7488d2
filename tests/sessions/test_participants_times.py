"""A proposed session time must suit both people: working hours in each one's zone (Perpres
21/2023), no holiday or cuti bersama, no leave, no clash with their other sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mentormatch.calendar.holidays import holiday_name
from mentormatch.extensions import db
from mentormatch.models import LeaveDate
from mentormatch.services import logbook, session_times
from mentormatch.services.participant_errors import LogError
from tests.logbook.test_logbook import make_pair, make_session

NOW = datetime(2026, 11, 1, tzinfo=UTC)  # proposals are checked as of this instant
WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")


def at(day: date, hh: int, mm: int = 0, zone: ZoneInfo = WIB) -> datetime:
    return datetime.combine(day, time(hh, mm), zone).astimezone(UTC)


TUE = date(2026, 11, 17)  # a Tuesday without holiday
FRI = date(2026, 11, 20)
SAT = date(2026, 11, 21)


def _setup(mentee_tz="Asia/Makassar"):
    pair = make_pair(start=date(2026, 1, 1), end=date(2026, 12, 31), mentee_tz=mentee_tz)
    session = make_session(pair, start=at(date(2026, 11, 10), 9))
    return pair, session


def _refused(session, pair, start) -> LogError:
    with pytest.raises(LogError) as err:
        logbook.propose_time(session, pair.mentor, start, now=NOW)
    assert session.proposed_start is None
    return err.value


def test_fixed_dates_are_plain_workdays():
    assert TUE.weekday() == 1 and FRI.weekday() == 4 and SAT.weekday() == 5
    assert not holiday_name(TUE) and not holiday_name(FRI)


def test_working_spans_from_config(app):
    spans = session_times.working_spans()
    assert spans[0] == [(450, 720), (780, 960)]  # Mon-Thu 07:30-12:00, 13:00-16:00
    assert spans[4] == [(450, 690), (780, 990)]  # Fri 07:30-11:30, 13:00-16:30
    assert 5 not in spans and 6 not in spans


def test_each_person_in_their_own_zone(app, client):
    pair, session = _setup("Asia/Jayapura")  # WIB mentor, WIT mentee (2 hours ahead)
    # 14:30 WIB is 16:30 WIT: after the mentee's working day
    err = _refused(session, pair, at(TUE, 14, 30))
    assert err.code == "outside_working_hours" and err.params["name"] == pair.mentee.name
    with app.test_request_context():
        text = err.message()
    assert "16:30 WIT" in text and "di luar jam kerja" in text and "07:30" in text
    # 07:00 WIT is 05:00 WIB: before the mentor's
    err = _refused(session, pair, at(TUE, 7, 0, WIT))
    assert err.params["name"] == pair.mentor.name
    # 08:00 WIB = 10:00 WIT: fine for both
    logbook.propose_time(session, pair.mentor, at(TUE, 8), now=NOW)
    assert session.proposed_start == at(TUE, 8)


def test_friday_break_and_weekend(app):
    pair, session = _setup()
    assert _refused(session, pair, at(FRI, 11, 0)).code == "outside_working_hours"  # to 12:00
    assert _refused(session, pair, at(SAT, 9)).code == "outside_working_hours"
    logbook.propose_time(session, pair.mentor, at(FRI, 13, 0), now=NOW)  # 14:00 WITA


def test_holiday_refused(app):
    pair, session = _setup()
    christmas = date(2026, 12, 25)
    assert holiday_name(christmas)
    err = _refused(session, pair, at(christmas, 9))
    assert err.code == "holiday" and err.params["holiday"]


def test_leave_refused(app):
    pair, session = _setup()
    db.session.add(LeaveDate(person_id=pair.mentee_id, start_date=TUE, end_date=TUE,
                             reason="Cuti tahunan"))
    db.session.flush()
    err = _refused(session, pair, at(TUE, 9))
    assert err.code == "on_leave" and err.params["name"] == pair.mentee.name


def test_clash_with_the_mentors_other_session(app):
    pair, session = _setup()
    other = make_pair(prog=pair.programme, mentor=pair.mentor)
    make_session(other, start=at(TUE, 9, 30))
    err = _refused(session, pair, at(TUE, 9))  # 09:00-10:00 overlaps 09:30-10:30
    assert err.code == "clash" and err.params["name"] == pair.mentor.name
    logbook.propose_time(session, pair.mentor, at(TUE, 13), now=NOW)  # after it (and the break)


def test_moving_within_its_own_slot_is_no_clash(app):
    pair, session = _setup()
    logbook.propose_time(session, pair.mentor, session.start_at + timedelta(minutes=30),
                         now=NOW)
    assert session.proposed_start is not None
