"""Ending a pair keeps its history (issue 13.2): ending the pair, withdrawing the mentor or the
mentor's decline cancels only the sessions still to come. The message the attendees get and
their subscription feed, read by icalendar, vobject and Mozilla ical.js, still hold every held
or past session; the mail says exactly what was cancelled."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest
from cal_helpers import iso, three_views
from flask import current_app
from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import OutboxMessage, Participant, Session
from mentormatch.services import invites
from mentormatch.services.replies import apply_reply
from tests import factories as f
from tests.helpers import csrf_from, set_settings
from tests.sessions.test_invites import make_pair, no_holiday
from tests.sessions.test_replies import MX, reply_mail


def _first_start() -> datetime:
    """A Tuesday 09:00 WIB five to six weeks ago: with a fortnightly series of six, three
    sessions lie in the past and three ahead, whatever day the suite runs."""
    day = (datetime.now(UTC) - timedelta(weeks=6)).date()
    day += timedelta(days=(1 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def _series_with_history():
    pair = make_pair(mentor_tz="Asia/Jakarta", mentee_tz="Asia/Makassar")
    pair.status = "active"
    series = f.series(pair, _first_start(), count=6, is_holiday=no_holiday)
    now = datetime.now(UTC)
    past = [s for s in series.sessions if s.start_at < now]
    assert len(past) == 3 and len(series.sessions) == 6
    past[0].status = past[1].status = "held"  # the third is past and not logged yet
    for att in series.attendees:
        att.partstat = "ACCEPTED"
    db.session.add(Participant(programme_id=pair.programme_id, person_id=pair.mentor_id,
                               role="mentor"))
    db.session.add(Participant(programme_id=pair.programme_id, person_id=pair.mentee_id,
                               role="mentee"))
    db.session.commit()
    return series, [s.start_at for s in past], [s.start_at for s in series.sessions[3:]]


def _end(how: str, series, client) -> None:
    pair = series.pair
    if how == "end":  # the mentor ends the pair on its page
        user = f.user(("mentor",), person_row=pair.mentor)
        db.session.commit()
        f.login(client, user)
        token = csrf_from(client, f"/pairs/{pair.id}")
        r = client.post(f"/pairs/{pair.id}/end", data={"csrf_token": token,
                                                       "reason": "Pindah tugas"})
        assert r.status_code == 302
    elif how == "withdraw":  # the coordinator withdraws the mentor from the programme
        coord = f.user(("coordinator",))
        from mentormatch.models import ProgrammeCoordinator
        db.session.add(ProgrammeCoordinator(programme_id=pair.programme_id, user_id=coord.id))
        db.session.commit()
        f.login(client, coord)
        base = f"/programmes/{pair.programme_id}"
        token = csrf_from(client, base)
        r = client.post(f"{base}/mentors/{pair.mentor_id}/withdraw",
                        data={"csrf_token": token, "reason": "Cuti besar"})
        assert r.status_code == 302
    else:  # the mentor declines in their calendar client, after three sessions
        mentor = series.attendees[0]
        # the reply passed our MX (dkim=pass stamped by reply_mail): a decline applies directly
        set_settings(current_app, inbox={"authserv_id": MX})
        row = apply_reply(reply_mail(series, mentor.email, "DECLINED"), source="imap")
        assert row.outcome == "applied", row.reason
        db.session.commit()
    db.session.expire_all()


def _kept_occurrences(view: list[dict]) -> list[str]:
    master = [e for e in view if e["recurrence_id"] is None]
    assert len(master) == 1
    return sorted(master[0]["occurrences"])


@pytest.mark.parametrize("how", ["end", "withdraw", "decline"])
def test_ending_cancels_only_what_lies_ahead(how, client, app):
    series, past, ahead = _series_with_history()
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    _end(how, series, client)
    series = db.session.get(type(series), series.id)
    assert series.status == "cancelled"
    states = [s.status for s in db.session.scalars(
        select(Session).where(Session.series_id == series.id).order_by(Session.start_at))]
    assert states == ["held", "held", "scheduled", "cancelled", "cancelled", "cancelled"]

    rows = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind.like("itip_%"))).all()
    mentee = series.attendees[1]
    assert mentee.email in {r.recipient for r in rows}
    for row in rows:
        msg = email.message_from_bytes(row.raw, policy=email.policy.default)
        (part,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
        assert part.get_param("method") == "REQUEST"  # an update, not a whole-series CANCEL
        ics = part.get_payload(decode=True)
        assert b"STATUS:CANCELLED" not in ics and b"RSVP=TRUE" not in ics
        for view in three_views(ics):
            assert _kept_occurrences(view) == sorted(iso(s) for s in past), (how, row.recipient)
        text = msg.get_body(("plain",)).get_content()
        person = next(a.person for a in series.attendees if a.email == row.recipient)
        if (person.locale or "id") == "id":
            assert "3 sesi yang sudah lewat tetap ada di kalender" in text
            assert "Sesi yang dibatalkan:" in text
        else:
            assert "the 3 past session(s) stay in your calendar" in text
        zone = " WITA" if person.timezone == "Asia/Makassar" else " WIB"
        assert text.count(zone) >= len(ahead)

    # the subscription feed keeps the three past sessions, confirmed
    mentee_person = mentee.person
    mentee_person.feed_token = "feed-token-for-partial-cancel-test-0123456789"
    db.session.commit()
    feed = client.get(f"/feed/{mentee_person.feed_token}.ics")
    assert feed.status_code == 200
    assert b"STATUS:CANCELLED" not in feed.data
    for view in three_views(feed.data):
        assert _kept_occurrences(view) == sorted(iso(s) for s in past)


def test_series_ended_before_any_session_is_cancelled_whole(app):
    pair = make_pair()
    start = datetime.now(UTC) + timedelta(days=8)
    series = f.series(pair, start, is_holiday=no_holiday)
    db.session.commit()
    invites.cancel_series(series, actor=None)
    db.session.commit()
    rows = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "itip_cancel")).all()
    assert len(rows) == 2
    msg = email.message_from_bytes(rows[0].raw, policy=email.policy.default)
    (part,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    ics = part.get_payload(decode=True)
    assert b"STATUS:CANCELLED" in ics and b"RECURRENCE-ID" not in ics


def test_calendar_text_and_holiday_names_are_indonesian(app):
    from mentormatch.calendar.holidays import holiday_name
    from tests.sessions.test_invites import make_series

    assert holiday_name(datetime(2026, 12, 24).date()) == "Cuti Bersama Hari Raya Natal"
    assert holiday_name(datetime(2026, 8, 17).date()) == "Hari Kemerdekaan Republik Indonesia"
    make_series()
    for row in db.session.scalars(select(OutboxMessage)).all():
        msg = email.message_from_bytes(row.raw, policy=email.policy.default)
        (part,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
        ics = part.get_payload(decode=True).decode().replace("\r\n ", "")  # unfolded
        assert "Fokus kompetensi: Komunikasi" in ics and "Focus competencies" not in ics
