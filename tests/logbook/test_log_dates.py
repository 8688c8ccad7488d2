"""A log's date is checked (issue 13.4): a session's log carries the session's local date (a
small configurable tolerance), never a date before the programme starts, and a weekend or
holiday date is refused or needs the mentor's explicit confirmation, as the programme says."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
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
    # a date far from the session's is not refused: the log takes the session's date
    far = (tue + timedelta(days=8)).isoformat()
    assert _post_log(client, pair, session_id=str(session.id), held_on=far).status_code == 302
    log = db.session.scalars(select(SessionLog)).one()
    assert log.held_on == tue
    # the day after is within the default tolerance of one day: kept as chosen
    set_settings(app, logbook={"session_date_tolerance_days": 1})
    csrf = csrf_from(client, f"/logs/{log.id}/edit")
    form = {"csrf_token": csrf, "held_on": (tue + timedelta(days=1)).isoformat(),
            "duration_minutes": "60", "topics": "x", "session_id": str(session.id)}
    assert client.post(f"/logs/{log.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(SessionLog, log.id).held_on == tue + timedelta(days=1)
    set_settings(app, logbook={"session_date_tolerance_days": 0})
    assert client.post(f"/logs/{log.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(SessionLog, log.id).held_on == tue


def test_picking_a_session_saves_it_on_the_sessions_date(client, app):
    """The demo's newcomer: the date field still shows today, a session weeks ago is chosen;
    the log is saved on the session's date. A session that has a log is no longer offered,
    and the form opened for one session shows its date."""
    pair = make_pair()
    _mentor, mentee = _users(pair)
    tue, thu = _past(1, weeks=3), _past(3, weeks=2)
    first = make_session(pair, start=datetime.combine(tue, time(9), WIB))
    second = make_session(pair, start=datetime.combine(thu, time(14), WIB))
    db.session.commit()
    f.login(client, mentee)
    today = utcnow().astimezone(WIB).date()
    page = client.get(f"/pairs/{pair.id}/logs/new").get_data(as_text=True)
    assert f'value="{first.id}" data-day="{tue.isoformat()}"' in page
    assert f'value="{second.id}" data-day="{thu.isoformat()}"' in page
    resp = _post_log(client, pair, session_id=str(first.id), held_on=today.isoformat())
    assert resp.status_code == 302, _ERROR.search(resp.get_data(as_text=True))
    log = db.session.scalars(select(SessionLog)).one()
    assert (log.session_id, log.held_on) == (first.id, tue)
    page = client.get(f"/pairs/{pair.id}/logs/new").get_data(as_text=True)
    assert f'value="{first.id}" data-day' not in page and f'value="{second.id}" data-day' in page
    # opened for the second session (the home's link): the date shown is the session's
    page = client.get(f"/pairs/{pair.id}/logs/new?session_id={second.id}").get_data(as_text=True)
    assert 'name="held_on" id="log-held-on" required min="' in page
    assert f'value="{thu.isoformat()}"' in page and f'value="{today.isoformat()}"' not in page
    # editing the first log still offers its own session
    page = client.get(f"/logs/{log.id}/edit").get_data(as_text=True)
    assert f'value="{first.id}" data-day="{tue.isoformat()}" selected' in page


def test_a_refusal_is_said_once_with_the_readers_date(client, app):
    start = utcnow().date() - timedelta(days=20)
    pair = make_pair(start=start, end=start + timedelta(days=200))
    pair.created_at = datetime.combine(start - timedelta(days=30), time(1), WIB)
    _mentor, mentee = _users(pair)
    db.session.commit()
    f.login(client, mentee)
    before = _past(1, weeks=5)
    html = _post_log(client, pair, held_on=before.isoformat()).get_data(as_text=True)
    message = _ERROR.search(html).group(1)
    assert "sebelum program dimulai" in message
    assert html.count("sebelum program dimulai") == 1
    assert start.isoformat() not in message
    assert format_date(start, "d MMM yyyy", locale="id_ID") in message
    # a value the form itself refuses: also once, beside its field
    html = _post_log(client, pair, duration_minutes="9999").get_data(as_text=True)
    assert html.count("Durasi paling lama 600 menit") == 1
    assert 'id="form-error"' not in html


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
