"""Applying iTIP REPLYs and COUNTERs: accept, decline, per occurrence, several VEVENTs,
missing SEQUENCE ordered by DTSTAMP; forged, unauthenticated, unknown, stale, malformed and
duplicate replies change nothing; declines tell the right people."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import icalendar
import pytest
from sqlalchemy import select

from mentormatch.calendar import build_reply
from mentormatch.extensions import db
from mentormatch.models import (
    AuditLog,
    InboundMessage,
    OccurrenceResponse,
    ProgrammeCoordinator,
)
from mentormatch.services import invites, logbook
from mentormatch.services.replies import apply_partstat, apply_reply
from tests import factories as f
from tests.helpers import set_settings
from tests.sessions.test_invites import FIRST, make_series, outbox

BEFORE = FIRST - timedelta(days=7)
#: the authserv-id of "our" mail exchanger in these tests (see verified_inbox)
MX = "mx.test.go.id"


@pytest.fixture(autouse=True)
def verified_inbox(app):
    """Mail in these tests passed our MX (dkim=pass, see _mail): declines apply directly.
    Unverified declines are held for confirmation (tests/sessions/test_security_replies.py)."""
    set_settings(app, inbox={"authserv_id": MX})


def _mail(ics: bytes, sender: str, method: str = "REPLY", *, sender_header: str | None = None,
          headers: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage()
    if headers is None:  # as our MX stamps a mail whose DKIM signature it checked
        domain = (sender_header or sender).rpartition("@")[2]
        headers = {"Authentication-Results": f"{MX}; dkim=pass header.d={domain}"}
    for name, value in headers.items():
        msg[name] = value
    msg["From"] = sender
    if sender_header:
        msg["Sender"] = sender_header
    msg["To"] = "mentoring@example.go.id"
    msg["Subject"] = f"{method}: mentoring"
    msg.set_content("reply")
    msg.add_alternative(ics, maintype="text", subtype="calendar",
                        params={"method": method, "charset": "UTF-8"})
    return msg.as_bytes()


def reply_ics(series, email: str, partstat: str, *, recurrence_id=None, sequence=None,
              dtstamp=None) -> bytes:
    return build_reply(invites.series_spec(series), email, partstat,
                       recurrence_id=recurrence_id, sequence=sequence, dtstamp=dtstamp)


def reply_mail(series, email: str, partstat: str, *, sender: str | None = None,
               recurrence_id=None, sequence=None, dtstamp=None, **kw) -> bytes:
    ics = reply_ics(series, email, partstat, recurrence_id=recurrence_id, sequence=sequence,
                    dtstamp=dtstamp)
    return _mail(ics, sender or email, **kw)


def moved_by_the_pair(session, hours: int = 1) -> None:
    """A session moves the product's way: its mentor proposes a new time and the mentee
    accepts (the services the pair's pages call); the session's SEQUENCE is raised."""
    pair = session.series.pair
    logbook.propose_time(session, pair.mentor, session.start_at + timedelta(hours=hours))
    logbook.answer_proposal(session, pair.mentee, True)
    db.session.flush()


def without_sequence(ics: bytes) -> bytes:
    return re.sub(rb"SEQUENCE:\d+\r\n", b"", ics)


def with_exceptions(master: bytes, *occurrences: bytes) -> bytes:
    """Thunderbird's shape: the series VEVENT plus one VEVENT per RECURRENCE-ID."""
    blocks = [re.search(rb"BEGIN:VEVENT.*?END:VEVENT\r\n", o, re.S).group(0)
              for o in occurrences]
    return master.replace(b"END:VCALENDAR", b"".join(blocks) + b"END:VCALENDAR")


def counter_ics(series, email: str, new_start: datetime, *, recurrence_id=None,
                sequence: int | None = None) -> bytes:
    """Outlook's "propose new time": METHOD:COUNTER with every attendee listed."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN")
    cal.add("version", "2.0")
    cal.add("method", "COUNTER")
    ev = icalendar.Event()
    ev.add("uid", series.uid)
    ev.add("sequence", series.sequence if sequence is None else sequence)
    ev.add("dtstamp", datetime.now(UTC).replace(microsecond=0))
    if recurrence_id is not None:
        ev.add("recurrence-id", recurrence_id)
    ev.add("dtstart", new_start)
    ev.add("dtend", new_start + timedelta(hours=1))
    ev.add("organizer", "mailto:mentoring@example.go.id")
    for a in series.attendees:
        att = icalendar.vCalAddress(f"mailto:{a.email.upper()}")
        att.params["PARTSTAT"] = "ACCEPTED" if a.email == email else "NEEDS-ACTION"
        ev.add("attendee", att)
    ev.add("comment", "Bisa jam 10?")
    cal.add_component(ev)
    return cal.to_ical()


def _coordinator(series, email="koordinator@example.go.id"):
    coord = f.user(("coordinator",), email=email)
    db.session.add(ProgrammeCoordinator(programme_id=series.pair.programme_id, user_id=coord.id))
    db.session.flush()
    return coord


def _snapshot(series):
    db.session.refresh(series)
    return [(a.partstat, a.answered_sequence) for a in series.attendees], series.pair.status


def test_mentor_accepts(app):
    series = make_series()
    mentor = series.attendees[0]
    row = apply_reply(reply_mail(series, mentor.email, "ACCEPTED"), source="imap")
    assert row.outcome == "applied", row.reason
    assert mentor.partstat == "ACCEPTED" and series.pair.status == "active"


def test_mentor_declines_frees_mentee_and_tells_coordinator(app):
    series = make_series()
    _coordinator(series)
    mentor = series.attendees[0]
    # a date in the past so every session counts as "to come"
    row = apply_reply(reply_mail(series, mentor.email, "DECLINED"), source="imap")
    assert row.outcome == "applied", row.reason
    assert series.pair.status == "declined"
    assert series.status == "cancelled"
    assert all(s.status == "cancelled" for s in series.sessions if s.start_at > datetime.now(UTC))
    notices = outbox("decline_notice")
    assert [n.recipient for n in notices] == ["koordinator@example.go.id"]
    assert [c.recipient for c in outbox("itip_cancel")] == [series.attendees[1].email]


def test_one_occurrence_declined(app):
    series = make_series()
    mentee = series.attendees[1]
    rid = series.sessions[1].recurrence_id
    row = apply_reply(reply_mail(series, mentee.email, "DECLINED", recurrence_id=rid),
                      source="upload")
    assert row.outcome == "applied", row.reason
    occ = db.session.scalars(select(OccurrenceResponse)).one()
    assert occ.partstat == "DECLINED" and occ.recurrence_id == rid
    assert mentee.partstat == "NEEDS-ACTION" and series.pair.status == "invited"


def test_rejections_change_nothing(app):
    series = make_series()
    mentor = series.attendees[0]
    before = _snapshot(series)
    forged = apply_reply(reply_mail(series, mentor.email, "DECLINED",
                                    sender="penipu@example.com"), source="imap")
    assert forged.outcome == "rejected" and "sender" in forged.reason
    assert forged.reason_code == "sender_mismatch"
    stranger = apply_reply(reply_mail(series, "orang@example.com", "ACCEPTED"), source="imap")
    assert stranger.outcome == "rejected" and "not an invitee" in stranger.reason
    other = make_series()
    other.uid = "unknown-uid@example"
    raw = reply_mail(other, other.attendees[0].email, "ACCEPTED")
    other.uid = "restored@example"
    db.session.flush()
    unknown = apply_reply(raw, source="imap")
    assert unknown.outcome == "rejected" and unknown.reason == "unknown UID"
    malformed = apply_reply(b"BEGIN:VCALENDAR\r\nthis is not ical", source="api")
    assert malformed.outcome == "rejected" and malformed.reason.startswith("malformed")
    assert _snapshot(series) == before


def test_stale_sequence_and_dtstamp(app):
    series = make_series()
    mentee = series.attendees[1]
    moving = series.sessions[1]
    old = reply_mail(series, mentee.email, "DECLINED", recurrence_id=moving.recurrence_id,
                     sequence=0)
    moved_by_the_pair(moving)
    assert moving.sequence == 1
    stale = apply_reply(old, source="imap")
    assert stale.reason.startswith("stale SEQUENCE") and stale.reason_code == "stale"
    future = apply_reply(reply_mail(series, mentee.email, "ACCEPTED", sequence=7),
                         source="imap")
    assert future.outcome == "rejected" and future.reason_code == "future_sequence"
    t = datetime.now(UTC)
    newer = reply_mail(series, mentee.email, "ACCEPTED", dtstamp=t)
    older = reply_mail(series, mentee.email, "DECLINED", dtstamp=t - timedelta(hours=1))
    assert apply_reply(newer, source="imap").outcome == "applied"
    late = apply_reply(older, source="imap")
    assert late.outcome == "rejected" and "newer answer" in late.reason
    assert mentee.partstat == "ACCEPTED"


def test_duplicate(app):
    series = make_series()
    raw = reply_mail(series, series.attendees[0].email, "ACCEPTED")
    assert apply_reply(raw, source="imap").outcome == "applied"
    assert apply_reply(raw, source="imap").outcome == "duplicate"
    outcomes = db.session.scalars(select(InboundMessage.outcome)).all()
    assert sorted(outcomes) == ["applied", "duplicate"]


def test_apply_partstat_same_path(app):
    series = make_series()
    mentor = series.attendees[0]
    row = apply_partstat(mentor, "accepted", None, None, "app")
    assert row.outcome == "applied" and series.pair.status == "active"
    stale = apply_partstat(mentor, "DECLINED", None, None, "link", sequence=-1)
    assert stale.outcome == "rejected" and mentor.partstat == "ACCEPTED"


def test_reply_without_sequence_is_ordered_by_dtstamp(app):
    """RFC 5546: no SEQUENCE - a DTSTAMP after the last change counts as current."""
    series = make_series()
    mentor, mentee = series.attendees
    first = reply_ics(series, mentee.email, "TENTATIVE", dtstamp=datetime.now(UTC))
    row = apply_reply(_mail(without_sequence(first), mentee.email), source="imap")
    assert row.outcome == "applied", row.reason  # nothing changed yet: the only version
    made_before_change = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    moving = series.sessions[1]
    moved_by_the_pair(moving)
    old = reply_ics(series, mentor.email, "DECLINED", recurrence_id=moving.recurrence_id,
                    dtstamp=made_before_change)
    row = apply_reply(_mail(without_sequence(old), mentor.email), source="imap")
    assert row.outcome == "rejected" and row.reason_code == "stale"
    assert db.session.scalars(select(OccurrenceResponse).where(
        OccurrenceResponse.attendee_id == mentor.id)).all() == []
    assert mentor.partstat == "NEEDS-ACTION" and series.pair.status == "invited"
    new = reply_ics(series, mentor.email, "ACCEPTED",
                    dtstamp=datetime.now(UTC) + timedelta(seconds=2))
    row = apply_reply(_mail(without_sequence(new), mentor.email), source="imap")
    assert row.outcome == "applied", row.reason
    assert mentor.partstat == "ACCEPTED" and mentor.answered_sequence == series.sequence
    assert series.pair.status == "active"


def test_thunderbird_reply_with_exceptions_applies_each_vevent(app):
    series = make_series()
    mentor = series.attendees[0]
    s1, s2 = series.sessions[1], series.sessions[2]
    invites.reschedule_session(s1, s1.start_at + timedelta(days=1), actor=None, now=BEFORE)
    db.session.flush()
    stamp = datetime.now(UTC).replace(microsecond=0)
    ics = with_exceptions(
        reply_ics(series, mentor.email, "ACCEPTED", dtstamp=stamp),
        reply_ics(series, mentor.email, "DECLINED", recurrence_id=s1.recurrence_id,
                  sequence=s1.sequence, dtstamp=stamp),
        reply_ics(series, mentor.email, "TENTATIVE", recurrence_id=s2.recurrence_id,
                  dtstamp=stamp),
    )
    row = apply_reply(_mail(ics, mentor.email.upper()), source="imap")  # From case differs
    assert row.outcome == "applied", row.reason
    assert [e["outcome"] for e in row.details["events"]] == ["applied"] * 3
    assert mentor.partstat == "ACCEPTED" and series.pair.status == "active"
    answers = {r.recurrence_id: r.partstat for r in db.session.scalars(select(OccurrenceResponse))}
    assert answers == {s1.recurrence_id: "DECLINED", s2.recurrence_id: "TENTATIVE"}
    # the mentee is told the mentor cannot come to the moved session
    notices = outbox("occurrence_decline_notice")
    assert [n.recipient for n in notices] == [series.attendees[1].email]


def test_reply_with_one_stale_exception_is_partly_applied(app):
    series = make_series()
    mentee = series.attendees[1]
    s1 = series.sessions[1]
    invites.reschedule_session(s1, s1.start_at + timedelta(days=1), actor=None, now=BEFORE)
    db.session.flush()
    ics = with_exceptions(
        reply_ics(series, mentee.email, "ACCEPTED"),
        reply_ics(series, mentee.email, "DECLINED", recurrence_id=s1.recurrence_id,
                  sequence=0),  # answers the occurrence as it was before the move
    )
    row = apply_reply(_mail(ics, mentee.email), source="imap")
    assert row.outcome == "partial" and row.reason_code == "partial"
    assert mentee.partstat == "ACCEPTED"
    assert db.session.scalars(select(OccurrenceResponse)).all() == []


def test_mentee_decline_tells_coordinator_and_mentor_and_is_recorded(app):
    series = make_series()
    _coordinator(series)
    mentee = series.attendees[1]
    row = apply_reply(reply_mail(series, mentee.email, "DECLINED"), source="imap")
    assert row.outcome == "applied", row.reason
    assert mentee.partstat == "DECLINED"
    assert series.pair.status == "invited" and series.status == "active"  # coordinator decides
    notices = outbox("mentee_decline_notice")
    assert sorted(n.recipient for n in notices) == sorted(
        ["koordinator@example.go.id", series.pair.mentor.email])
    assert "Mentee menolak" in notices[0].subject  # Indonesian for the coordinator
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "pair.mentee_declined"))


def test_sender_on_behalf_and_authentication_results(app):
    set_settings(app, inbox={"authserv_id": "mx.bkpsdm.go.id"})
    series = make_series()
    mentor, mentee = series.attendees
    domain = mentor.email.rpartition("@")[2]
    # "sent on behalf": From is an assistant, Sender is the attendee
    row = apply_reply(reply_mail(series, mentee.email, "TENTATIVE",
                                 sender="sekretaris@example.go.id",
                                 sender_header=mentee.email), source="imap")
    assert row.outcome == "applied", row.reason
    # our MX says DKIM failed for the sender's domain: rejected
    bad = {"Authentication-Results":
           f"mx.bkpsdm.go.id; dkim=fail header.d={domain}; spf=softfail smtp.mailfrom={domain}"}
    row = apply_reply(reply_mail(series, mentor.email, "DECLINED", headers=bad), source="imap")
    assert row.outcome == "rejected" and row.reason_code == "unauthenticated"
    assert series.pair.status == "invited"
    # a header claiming "pass" from someone else's server counts for nothing
    forged = {"Authentication-Results": f"evil.example; dkim=pass header.d={domain}",
              **bad}
    row = apply_reply(reply_mail(series, mentor.email, "DECLINED", headers=forged),
                      source="imap")
    assert row.outcome == "rejected" and row.reason_code == "unauthenticated"
    good = {"Authentication-Results":
            f"mx.bkpsdm.go.id; dkim=pass (good signature) header.d={domain}"}
    row = apply_reply(reply_mail(series, mentor.email, "ACCEPTED", headers=good), source="imap")
    assert row.outcome == "applied", row.reason
    # strict mode: no header of our MX at all -> rejected
    set_settings(app, inbox={"require_authenticated_sender": True})
    row = apply_reply(reply_mail(series, mentee.email, "ACCEPTED"), source="imap")
    assert row.outcome == "rejected" and row.reason_code == "unauthenticated"
    spf = {"Authentication-Results": f"mx.bkpsdm.go.id; spf=pass smtp.mailfrom={mentee.email}"}
    row = apply_reply(reply_mail(series, mentee.email, "ACCEPTED", headers=spf,
                                 dtstamp=datetime.now(UTC) + timedelta(minutes=1)),
                      source="imap")
    assert row.outcome == "applied", row.reason


def test_counter_from_mentor_becomes_a_proposal_and_notices(app):
    series = make_series()
    _coordinator(series)
    mentor = series.attendees[0]
    s1 = series.sessions[1]
    new_start = s1.start_at + timedelta(days=1, hours=1)
    raw = _mail(counter_ics(series, mentor.email, new_start, recurrence_id=s1.recurrence_id),
                mentor.email, "COUNTER")
    row = apply_reply(raw, source="imap")
    assert row.outcome == "counter", row.reason
    assert row.details["proposal"] is True and row.details["comment"] == "Bisa jam 10?"
    assert s1.proposed_start == new_start and s1.start_at != new_start  # nothing moved yet
    assert sorted(n.recipient for n in outbox("counter_notice")) == sorted(
        ["koordinator@example.go.id", series.attendees[1].email])
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "attendee.counter"))


def test_counter_from_mentee_or_for_the_series_is_a_notice_only(app):
    series = make_series()
    _coordinator(series)
    mentee = series.attendees[1]
    raw = _mail(counter_ics(series, mentee.email, series.first_start + timedelta(hours=2)),
                mentee.email, "COUNTER")
    row = apply_reply(raw, source="imap")
    assert row.outcome == "counter" and row.details["proposal"] is False
    assert all(s.proposed_start is None for s in series.sessions)
    assert len(outbox("counter_notice")) == 2
    # proposing a holiday (cuti bersama 9 March 2027) or the past is refused with a reason
    s1 = series.sessions[1]
    holiday = _mail(counter_ics(series, series.attendees[0].email,
                                datetime(2027, 3, 9, 2, 0, tzinfo=UTC),
                                recurrence_id=s1.recurrence_id),
                    series.attendees[0].email, "COUNTER")
    row = apply_reply(holiday, source="imap")
    assert row.outcome == "rejected" and row.reason_code == "counter_invalid"
    assert s1.proposed_start is None
