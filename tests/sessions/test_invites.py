"""Series creation and the REQUEST / CANCEL mails it causes (rendered, parsed back); moves
only touch sessions still to come and skip holidays again."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select

from mentormatch.calendar import build_request, parse_itip
from mentormatch.extensions import db
from mentormatch.models import OutboxMessage, Pair, Programme, SessionLog
from mentormatch.services import invites
from mentormatch.services.invites import InviteError
from tests import factories as f

# Tuesday 2 March 2027, 09:00 WIB (the sessions: 2, 16 and 30 March)
FIRST = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)


def make_pair(*, mentor_tz: str = "Asia/Jakarta", mentee_tz: str = "Asia/Makassar",
              mentor_locale: str = "id", mentee_locale: str = "en") -> Pair:
    prog = Programme(name="Mentoring Kominfo 2027", start_date=date(2027, 1, 1),
                     end_date=date(2027, 12, 31), session_count=3, interval_weeks=2,
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
    series = f.series(pair, FIRST, is_holiday=no_holiday)
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
    skip = {date(2027, 3, 16)}
    series = f.series(pair, FIRST, is_holiday=lambda d: d in skip)
    starts = [s.start_at.date() for s in series.sessions]
    assert starts == [date(2027, 3, 2), date(2027, 3, 30), date(2027, 4, 13)]
    spec = invites.series_spec(series)
    assert [e.date() for e in spec.exdates] == [date(2027, 3, 16)]
    assert spec.count == 4


def test_real_calendar_skips_cuti_bersama(app):
    """No test double: 9 March 2027 is cuti bersama for Idul Fitri (category government)."""
    pair = make_pair()
    series = f.series(pair, FIRST + timedelta(weeks=1), count=2)
    assert [s.start_at.date() for s in series.sessions] == [date(2027, 3, 23),
                                                           date(2027, 4, 6)]


def test_reschedule_and_cancel_raise_sequence(app):
    series = make_series()
    before = FIRST - timedelta(days=7)
    s1 = series.sessions[1]
    invites.reschedule_session(s1, s1.start_at + timedelta(days=1), actor=None, now=before)
    assert s1.sequence == 1 and series.sequence == 0 and s1.sequence_changed_at is not None
    db.session.commit()
    moved = [r for r in outbox("itip_request") if parse_itip(r.raw).sequence == 1]
    assert len(moved) == 2  # mentor and mentee
    invites.cancel_series(series, actor=None, now=FIRST - timedelta(days=1))
    db.session.commit()
    assert series.status == "cancelled" and series.sequence == 2  # above every one sent
    cancels = outbox("itip_cancel")
    assert len(cancels) == 2 and parse_itip(cancels[0].raw).sequence == 2
    assert all(s.status == "cancelled" for s in series.sessions)


def test_reschedule_mail_has_one_click_links_for_that_session(app):
    from mentormatch.calendar import verify_rsvp
    from mentormatch.models import utcnow

    series = make_series()
    s1 = series.sessions[1]
    invites.reschedule_session(s1, s1.start_at + timedelta(days=1), actor=None,
                               now=FIRST - timedelta(days=7))
    db.session.commit()
    mails = [r for r in outbox("itip_request") if parse_itip(r.raw).recurrence_id]
    assert len(mails) == 2
    msg = email.message_from_bytes(mails[0].raw, policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    assert "jawab untuk sesi ini" in text or "answer for this session" in text
    token = text.split("/rsvp/")[1].split()[0]
    rsvp = verify_rsvp(app.config["SECRET_KEY"], token, utcnow())
    assert rsvp.recurrence_id == s1.recurrence_id and rsvp.sequence == s1.sequence == 1


def test_reschedule_rules(app):
    series = make_series()
    s0, s1, s2 = series.sessions
    before = FIRST - timedelta(days=7)
    # onto cuti bersama (real calendar: Tuesday 9 March 2027) - refused, nothing written
    with pytest.raises(InviteError) as info:
        invites.reschedule_session(s1, datetime(2027, 3, 9, 2, 0, tzinfo=UTC), actor=None,
                                   now=before)
    assert info.value.code == "holiday" and "Idul Fitri" in info.value.detail  # in Indonesian
    assert s1.sequence == 0 and s1.start_at == s1.recurrence_id
    # a session that already took place cannot move
    with pytest.raises(InviteError) as info:
        invites.reschedule_session(s0, s0.start_at + timedelta(days=30), actor=None,
                                   now=s0.end_at + timedelta(hours=1))
    assert info.value.code == "in_past"
    # nor into the past, nor a logged one
    with pytest.raises(InviteError) as info:
        invites.reschedule_session(s1, before - timedelta(days=1), actor=None, now=before)
    assert info.value.code == "new_time_past"
    db.session.add(SessionLog(pair_id=series.pair_id, session_id=s2.id,
                              author_id=series.pair.mentee_id, held_on=date(2027, 3, 30),
                              duration_minutes=60, status="submitted", topics="x"))
    db.session.flush()
    with pytest.raises(InviteError) as info:
        invites.reschedule_session(s2, s2.start_at + timedelta(days=1), actor=None, now=before)
    assert info.value.code == "logged"
    with app.test_request_context():  # a translated message for the page
        assert str(info.value.message) == (
            "Sesi ini sudah memiliki catatan; tidak dapat dipindahkan.")
    assert len(outbox("itip_request")) == 2  # only the first invitations


def test_feed_contains_series(app):
    series = make_series()
    feed = invites.feed_for(series.pair.mentee)
    cal = icalendar.Calendar.from_ical(feed)
    uids = {str(e["uid"]) for e in cal.walk("VEVENT")}
    assert uids == {series.uid}
    assert b"METHOD" not in feed


def test_mentor_in_dst_zone_keeps_local_hour(app):
    pair = make_pair(mentor_tz="Australia/Sydney")
    series = f.series(pair, FIRST, interval_weeks=3, is_holiday=no_holiday)
    assert series.tzid == "Australia/Sydney"
    hours = [s.start_at.hour for s in series.sessions]  # UTC
    assert hours == [2, 2, 3]  # 13:00 AEDT, 13:00 AEDT, 13:00 AEST (after 5 April)
    ics = build_request(invites.series_spec(series))
    cal = icalendar.Calendar.from_ical(ics)
    assert "Australia/Sydney" in {str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")}
