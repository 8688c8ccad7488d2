"""Apply calendar answers: iTIP REPLY mail (IMAP, upload, API) and the in-app / link buttons.

Every attempt is recorded as an :class:`InboundMessage` with its outcome; a rejected reply
changes nothing else. Services flush, never commit.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..calendar import ItipError, parse_itip, supersedes
from ..calendar.model import normalise_email
from ..extensions import db
from ..models import (
    Attendee,
    InboundMessage,
    OccurrenceResponse,
    ProgrammeCoordinator,
    Session,
    SessionSeries,
    User,
    utcnow,
)
from . import audit, invites

log = logging.getLogger(__name__)

EMAIL_SOURCES = frozenset({"imap"})
ANSWERS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"})


class ReplyRejected(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _record(source: str, digest: str, outcome: str, reason: str | None = None, *,
            sender: str | None = None, uid: str | None = None,
            series: SessionSeries | None = None) -> InboundMessage:
    row = InboundMessage(source=source, digest=digest, outcome=outcome,
                         reason=(reason or None) and reason[:500], sender=sender, uid=uid,
                         series_id=series.id if series is not None else None)
    db.session.add(row)
    db.session.flush()
    if outcome == "rejected":
        log.warning("calendar reply rejected (%s, uid=%s): %s", source, uid, reason)
    return row


def apply_reply(raw_bytes: bytes, *, source: str, actor: Any = None) -> InboundMessage:
    """Check and apply one REPLY (.ics or .eml). Never raises for bad input."""
    digest = hashlib.sha256(raw_bytes).hexdigest()
    seen = db.session.scalar(
        select(InboundMessage.id).where(InboundMessage.digest == digest,
                                        InboundMessage.outcome != "duplicate").limit(1)
    )
    if seen is not None:
        return _record(source, digest, "duplicate", f"same bytes as inbound #{seen}")
    try:
        parsed = parse_itip(raw_bytes)
    except ItipError as exc:
        return _record(source, digest, "rejected", f"malformed: {exc.code}: {exc.message}")
    sender = normalise_email(parsed.sender) if parsed.sender else None
    common = {"sender": sender, "uid": parsed.uid}
    if parsed.method != "REPLY":
        return _record(source, digest, "rejected", f"not a REPLY (METHOD {parsed.method})",
                       **common)
    series = db.session.scalar(select(SessionSeries).where(SessionSeries.uid == parsed.uid))
    if series is None:
        return _record(source, digest, "rejected", "unknown UID", **common)
    common["series"] = series
    email = normalise_email(parsed.attendee_email or "")
    att = next((a for a in series.attendees if a.email.lower() == email), None)
    if att is None:
        return _record(source, digest, "rejected", f"{email or '?'} is not an invitee",
                       **common)
    if source in EMAIL_SOURCES and sender is None:
        return _record(source, digest, "rejected", "mail without a sender", **common)
    if sender is not None and sender != email:
        return _record(source, digest, "rejected",
                       f"sender {sender} does not match attendee {email}", **common)
    try:
        _apply(att, parsed.partstat or "", parsed.recurrence_id, parsed.sequence,
               parsed.dtstamp, actor=actor, source=source)
    except ReplyRejected as exc:
        return _record(source, digest, "rejected", exc.reason, **common)
    return _record(source, digest, "applied", **common)


def apply_partstat(attendee: Attendee, partstat: str, recurrence_id: datetime | None,
                   actor: Any, source: str, *, sequence: int | None = None) -> InboundMessage:
    """The in-app button / one-click link path: same checks and effects as a mailed REPLY."""
    now = utcnow()
    series: SessionSeries = db.session.get(SessionSeries, attendee.series_id)
    seq = _current_sequence(series, recurrence_id) if sequence is None else sequence
    digest = hashlib.sha256(
        f"{source}:{attendee.id}:{partstat}:{recurrence_id}:{seq}:{now.isoformat()}".encode()
    ).hexdigest()
    common = {"sender": attendee.email, "uid": series.uid, "series": series}
    try:
        _apply(attendee, partstat.upper(), recurrence_id, seq, now, actor=actor, source=source)
    except ReplyRejected as exc:
        return _record(source, digest, "rejected", exc.reason, **common)
    return _record(source, digest, "applied", **common)


def _session_for(series: SessionSeries, rid: datetime) -> Session | None:
    return next((s for s in series.sessions if s.recurrence_id == rid), None)


def _current_sequence(series: SessionSeries, rid: datetime | None) -> int:
    if rid is None:
        return series.sequence
    s = _session_for(series, rid)
    return max(series.sequence, s.sequence if s is not None else 0)


def _apply(att: Attendee, partstat: str, rid: datetime | None, seq: int,
           dtstamp: datetime | None, *, actor: Any, source: str) -> None:
    series: SessionSeries = db.session.get(SessionSeries, att.series_id)
    if partstat not in ANSWERS:
        raise ReplyRejected(f"PARTSTAT {partstat or '?'} is not an answer")
    if series.status == "cancelled":
        raise ReplyRejected("the series is cancelled")
    if rid is not None and _session_for(series, rid) is None:
        raise ReplyRejected("RECURRENCE-ID is not an occurrence of the series")
    current = _current_sequence(series, rid)
    if seq < current:
        raise ReplyRejected(f"stale SEQUENCE {seq} (current {current})")
    if seq > current:
        raise ReplyRejected(f"SEQUENCE {seq} was never sent (current {current})")
    stamp = dtstamp or utcnow()
    if rid is None:
        if att.answered_sequence is not None and not supersedes(
            seq, stamp, att.answered_sequence, att.answered_at
        ):
            raise ReplyRejected("stale: an equal or newer answer is already recorded")
        att.partstat, att.answered_sequence, att.answered_at = partstat, seq, stamp
    else:
        row = db.session.scalar(select(OccurrenceResponse).where(
            OccurrenceResponse.attendee_id == att.id, OccurrenceResponse.recurrence_id == rid))
        if row is not None and not supersedes(seq, stamp, row.answered_sequence,
                                              row.answered_at):
            raise ReplyRejected("stale: an equal or newer answer is already recorded")
        if row is None:
            row = OccurrenceResponse(attendee_id=att.id, recurrence_id=rid)
            db.session.add(row)
        row.partstat, row.answered_sequence, row.answered_at = partstat, seq, stamp
    db.session.flush()
    pair = series.pair
    audit.record(actor, "attendee.answer", att, programme_id=pair.programme_id,
                 partstat=partstat, source=source, sequence=seq,
                 recurrence_id=rid.isoformat() if rid else None)
    if att.role != "mentor" or rid is not None:
        return
    if partstat == "ACCEPTED" and pair.status == "invited":
        pair.status = "active"
    elif partstat == "DECLINED" and pair.status in ("invited", "active"):
        _mentor_declined(series, att, actor)


def _mentor_declined(series: SessionSeries, att: Attendee, actor: Any) -> None:
    """Pair declined: sessions to come cancelled (CANCEL to the mentee), coordinators told;
    the pair is no longer live, so the mentee can be matched again."""
    pair = series.pair
    pair.status, pair.ended_at = "declined", utcnow()
    pair.end_reason = "mentor declined the invitation"
    others = [a for a in series.attendees if a.id != att.id]
    invites.cancel_series(series, actor=actor, notify=others)
    coordinators = db.session.scalars(
        select(User).join(ProgrammeCoordinator, ProgrammeCoordinator.user_id == User.id)
        .where(ProgrammeCoordinator.programme_id == pair.programme_id)
    ).all()
    from .mailer import build_message, enqueue

    for user in coordinators:
        locale = user.locale or "id"
        subject, text, html = invites.render(
            "decline_notice", locale, pair=pair, series=series, coordinator=user,
            base_url=invites._mm()["app"]["base_url"].rstrip("/"))
        enqueue(build_message(user.email, subject, text, html), kind="decline_notice",
                dedupe_key=f"decline:{series.uid}:{user.id}")
    audit.record(actor, "pair.declined", pair, programme_id=pair.programme_id)
