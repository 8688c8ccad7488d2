"""A log's date is checked (issue 13.4): a session's log carries the session's local date (a
small configurable tolerance), never a date before the programme starts, and a weekend or
holiday date is refused or needs the mentor's explicit confirmation, as the programme says."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from mentormatch.calendar.holidays import holiday_name
from mentormatch.extensions import db
from mentormatch.models import SessionLog, utcnow
from tests import factories as f
from tests.helpers import csrf_from, set_settings
from tests.logbook.test_logbook import make_pair, make_session
from tests.logbook.test_participants_web import _ERROR, _post_log, _users

WIB = ZoneInfo("Asia/Jakarta")


def _past(weekday: int, weeks: int = 2) -> date:
    """A date some weeks ago on ``weekday`` (0 = Monday) that is no holiday."""
    day = utcnow().date() - timedelta(weeks=weeks)
    while day.weekday() != weekday or holiday_name(day):
        day -= timedelta(days=1)
    return day


def test_session_log_carries_the_sessions_date(client, app):
    pair = make_pair()
    _mentor, mentee = _users(pair)
    tue = _past(1, weeks=3)
    session = make_session(pair, start=datetime.combine(tue, time(9), WIB))
    db.session.commit()
    f.login(client, mentee)
    far = (tue + timedelta(days=8)).isoformat()
    resp = _post_log(client, pair, session_id=str(session.id), held_on=far)
    assert resp.status_code == 400
    assert "memakai tanggal sesi tersebut" in _ERROR.search(resp.get_data(as_text=True)).group(1)
    # the day after is within the default tolerance of one day
    ok = _post_log(client, pair, session_id=str(session.id),
                   held_on=(tue + timedelta(days=1)).isoformat())
    assert ok.status_code == 302
    set_settings(app, logbook={"session_date_tolerance_days": 0})
    log = db.session.scalars(select(SessionLog)).one()
    csrf = csrf_from(client, f"/logs/{log.id}/edit")
    page = client.post(f"/logs/{log.id}/edit", data={
        "csrf_token": csrf, "held_on": (tue + timedelta(days=1)).isoformat(),
        "duration_minutes": "60", "topics": "x", "session_id": str(session.id)})
    assert page.status_code == 400


def test_no_log_before_the_programme_starts(client, app):
    start = utcnow().date() - timedelta(days=20)
    pair = make_pair(start=start, end=start + timedelta(days=200))
    pair.created_at = datetime.combine(start - timedelta(days=30), time(1), WIB)  # approved early
    _mentor, mentee = _users(pair)
    db.session.commit()
    f.login(client, mentee)
    before = _past(1, weeks=5)
    assert before < start
    resp = _post_log(client, pair, held_on=before.isoformat())
    assert resp.status_code == 400
    assert "sebelum program dimulai" in _ERROR.search(resp.get_data(as_text=True)).group(1)
    assert db.session.scalar(select(SessionLog.id)) is None


def test_weekend_logs_refused_or_confirmed_explicitly(client, app):
    pair = make_pair()
    pair.programme.off_day_logs = "refuse"
    mentor, mentee = _users(pair)
    db.session.commit()
    saturday = _past(5)
    f.login(client, mentee)
    resp = _post_log(client, pair, held_on=saturday.isoformat())
    assert resp.status_code == 400
    assert "tidak menerima catatan" in _ERROR.search(resp.get_data(as_text=True)).group(1)
    assert "Sabtu" in _ERROR.search(resp.get_data(as_text=True)).group(1)
    # the day is named in the reader's language
    client.post("/language", data={"csrf_token": csrf_from(client, "/"), "locale": "en",
                                   "next": "/"})
    english = _ERROR.search(_post_log(client, pair, held_on=saturday.isoformat())
                            .get_data(as_text=True)).group(1)
    assert "Saturday" in english and "Sabtu" not in english
    client.post("/language", data={"csrf_token": csrf_from(client, "/"), "locale": "id",
                                   "next": "/"})

    pair.programme.off_day_logs = "confirm"
    db.session.commit()
    assert _post_log(client, pair, held_on=saturday.isoformat()).status_code == 302
    log = db.session.scalars(select(SessionLog)).one()
    f.login(client, mentor)
    page = client.get(f"/logs/{log.id}").get_data(as_text=True)
    assert 'id="off-day-ok"' in page
    token = csrf_from(client, f"/logs/{log.id}")
    done = client.post(f"/logs/{log.id}/confirm", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "centang bahwa sesi memang berlangsung" in done
    db.session.expire_all()
    assert db.session.get(SessionLog, log.id).status == "submitted"
    client.post(f"/logs/{log.id}/confirm", data={"csrf_token": token, "off_day_ok": "1"})
    db.session.expire_all()
    assert db.session.get(SessionLog, log.id).status == "confirmed"
