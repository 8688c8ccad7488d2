"""Series creation and the REQUEST / CANCEL mails it causes (rendered, parsed back)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, timedelta

import icalendar
from sqlalchemy import select

from mentormatch.calendar import build_request, parse_itip
from mentormatch.extensions import db
from mentormatch.models import OutboxMessage, Pair, Programme
from mentormatch.services import invites
from tests import factories as f

# Tuesday 3 March 2026, 09:00 WIB
FIRST = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


def make_pair(*, mentor_tz: str = "Asia/Jakarta", mentee_tz: str = "Asia/Makassar",
              mentor_locale: str = "id", mentee_locale: str = "en") -> Pair:
    prog = Programme(name="Mentoring Kominfo 2026", start_date=date(2026, 1, 1),
                     end_date=date(2026, 12, 31), session_count=3, interval_weeks=2,
                     session_minutes=60, mailbox="mentoring@example.go.id",
                     meeting_url="https://meet.example.go.id/abc")
    db.session.add(prog)
    mentor = f.person("Budi Mentor", grade=12, locale=mentor_locale,
                      loc=f.location(f"L-{mentor_tz}", "Kota", mentor_tz))
    mentee = f.person("Sari Mentee", grade=8, locale=mentee_locale,
                      loc=f.location(f"L-{mentee_tz}", "Kota", mentee_tz))
    pair = Pair(programme=prog, mentor_id=mentor.id, mentee_id=mentee.id, status="invited",
                focus=["KOM"])
    db.session.add(pair)
    db.session.flush()
    return pair


def no_holiday(day: date) -> bool:
    return False


def make_series(pair: Pair | None = None, **kw):
    pair = pair or make_pair(**kw)
    series = invites.create_series_for_pair(pair, FIRST, actor=None, is_holiday=no_holiday)
    invites.send_invites(series)
    db.session.commit()
    return series


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    q = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        q = q.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(q))


def test_series_and_invites(app):
    series = make_series()
    assert len(series.sessions) == 3
    assert [a.role for a in series.attendees] == ["mentor", "mentee"]
    rows = outbox("itip_request")
    assert len(rows) == 2
    by_rcpt = {r.recipient: r for r in rows}
    mentee_mail = email.message_from_bytes(by_rcpt[series.attendees[1].email].raw,
                                           policy=email.policy.default)
    assert "Mentoring invitation" in mentee_mail["Subject"]  # English for the mentee
    mentor_mail = email.message_from_bytes(by_rcpt[series.attendees[0].email].raw,
                                           policy=email.policy.default)
    assert "Undangan mentoring" in mentor_mail["Subject"]
    cal_parts = [p for p in mentor_mail.walk() if p.get_content_type() == "text/calendar"]
    assert cal_parts and cal_parts[0].get_param("method") == "REQUEST"
    text = mentor_mail.get_body(("plain",)).get_content()
    assert "/rsvp/" in text and "09:00 WIB" in text
    mentee_text = mentee_mail.get_body(("plain",)).get_content()
    assert "10:00 WITA" in mentee_text
    parsed = parse_itip(by_rcpt[series.attendees[0].email].raw)
    assert parsed.method == "REQUEST" and parsed.uid == series.uid
    cal = icalendar.Calendar.from_ical(cal_parts[0].get_content())
    ev = next(iter(cal.walk("VEVENT")))
    assert ev.decoded("dtstart").astimezone(UTC) == FIRST
    # idempotent: sending the same version again adds nothing
    assert invites.send_invites(series) == 0


def test_holiday_is_skipped_and_series_extended(app):
    pair = make_pair()
    skip = {date(2026, 3, 17)}
    series = invites.create_series_for_pair(pair, FIRST, actor=None,
                                            is_holiday=lambda d: d in skip)
    starts = [s.start_at.date() for s in series.sessions]
    assert starts == [date(2026, 3, 3), date(2026, 3, 31), date(2026, 4, 14)]
    spec = invites.series_spec(series)
    assert [e.date() for e in spec.exdates] == [date(2026, 3, 17)]
    assert spec.count == 4


def test_reschedule_cancel_and_move_raise_sequence(app):
    series = make_series()
    s1 = series.sessions[1]
    invites.reschedule_session(s1, s1.start_at + timedelta(days=1), actor=None)
    assert s1.sequence == 1 and series.sequence == 0
    invites.cancel_session(series.sessions[2], actor=None)
    assert series.sessions[2].status == "cancelled" and series.sessions[2].sequence == 2
    db.session.commit()
    cancels = outbox("itip_cancel")
    assert len(cancels) == 2
    assert parse_itip(cancels[0].raw).sequence == 2
    invites.move_series(series, FIRST + timedelta(hours=1), actor=None)
    assert series.sequence == 3
    db.session.commit()
    latest = [r for r in outbox("itip_request") if parse_itip(r.raw).sequence == 3]
    assert len(latest) == 2
    invites.cancel_series(series, actor=None, now=FIRST - timedelta(days=1))
    db.session.commit()
    assert series.status == "cancelled" and series.sequence == 4
    assert all(s.status == "cancelled" for s in series.sessions)


def test_feed_contains_series(app):
    series = make_series()
    feed = invites.feed_for(series.pair.mentee)
    cal = icalendar.Calendar.from_ical(feed)
    uids = {str(e["uid"]) for e in cal.walk("VEVENT")}
    assert uids == {series.uid}
    assert b"METHOD" not in feed


def test_mentor_in_dst_zone_keeps_local_hour(app):
    pair = make_pair(mentor_tz="Australia/Sydney")
    series = invites.create_series_for_pair(pair, FIRST, actor=None, interval_weeks=3,
                                            is_holiday=no_holiday)
    assert series.tzid == "Australia/Sydney"
    hours = [s.start_at.hour for s in series.sessions]  # UTC
    assert hours == [2, 2, 3]  # 13:00 AEDT, 13:00 AEDT, 13:00 AEST (after 5 April)
    ics = build_request(invites.series_spec(series))
    cal = icalendar.Calendar.from_ical(ics)
    assert "Australia/Sydney" in {str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")}
