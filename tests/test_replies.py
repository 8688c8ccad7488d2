"""Applying iTIP REPLYs: accept, decline, per occurrence; forged, unknown, stale, malformed,
duplicate replies change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from mentormatch.calendar import build_reply
from mentormatch.extensions import db
from mentormatch.models import InboundMessage, OccurrenceResponse, ProgrammeCoordinator
from mentormatch.services import invites
from mentormatch.services.replies import apply_partstat, apply_reply
from tests import factories as f
from tests.test_invites import make_series, outbox


def reply_mail(series, email: str, partstat: str, *, sender: str | None = None,
               recurrence_id=None, sequence=None, dtstamp=None) -> bytes:
    ics = build_reply(invites.series_spec(series), email, partstat, recurrence_id=recurrence_id,
                      sequence=sequence, dtstamp=dtstamp)
    msg = EmailMessage()
    msg["From"] = sender or email
    msg["To"] = "mentoring@example.go.id"
    msg["Subject"] = f"{partstat}: mentoring"
    msg.set_content("reply")
    msg.add_alternative(ics, maintype="text", subtype="calendar",
                        params={"method": "REPLY", "charset": "UTF-8"})
    return msg.as_bytes()


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
    coord = f.user(("coordinator",), email="koordinator@example.go.id")
    db.session.add(ProgrammeCoordinator(programme_id=series.pair.programme_id, user_id=coord.id))
    db.session.flush()
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
    old = reply_mail(series, mentee.email, "DECLINED", sequence=0)
    invites.move_series(series, series.first_start + timedelta(hours=1), actor=None)
    assert apply_reply(old, source="imap").reason.startswith("stale SEQUENCE")
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
