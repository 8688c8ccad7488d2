"""Apply calendar answers: iTIP REPLY / COUNTER mail (IMAP, upload, API) and the in-app / link
buttons - one path, one set of checks.

Every attempt is recorded as an :class:`InboundMessage` with its outcome, an English reason
(logs, admins) and a ``reason_code`` that pages show translated; a rejected reply changes
nothing else. Services flush, never commit.

Ordering (RFC 5546 2.1.5): a reply is applied when its SEQUENCE equals the current one of the
series (or of the occurrence it names); higher than ever sent is rejected, lower is stale.
Without a SEQUENCE (some clients omit it) its DTSTAMP decides: made after the last change of
that series/occurrence means current, before means stale. Among equally current answers the
later DTSTAMP wins. A reply with several VEVENTs (the series plus RECURRENCE-ID exceptions, as
Thunderbird sends) applies each one.

COUNTER (Outlook "propose new time") is recorded as a proposal, never applied by itself: the
coordinators (and the other member of the pair) get a notice with the proposed time; when the
mentor proposes a new time for one session it also becomes that session's pending proposal,
which the mentee accepts or declines on their home page (the same flow as an in-app proposal).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..calendar import ItipError, parse_itip, supersedes
from ..calendar.model import normalise_email
from ..calendar.replies import ParsedEvent, ParsedItip
from ..extensions import db
from ..mail.authres import sender_verdict
from ..models import (
    Actor,
    Attendee,
    InboundMessage,
    OccurrenceResponse,
    Session,
    SessionSeries,
    utcnow,
)
from ..settings import settings
from . import audit, invites

log = logging.getLogger(__name__)

EMAIL_SOURCES = frozenset({"imap"})
STAFF_SOURCES = frozenset({"upload", "api"})
ANSWERS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"})

#: reason_code -> what a user reads (translated when shown)
REASONS: dict[str, Any] = {
    "duplicate": _l("This reply was already received."),
    "malformed": _l("The file is not a readable calendar reply."),
    "not_reply": _l("This is not a calendar answer (REPLY or COUNTER)."),
    "unknown_uid": _l("The reply does not belong to any known mentoring series."),
    "not_invitee": _l("The person answering is not invited to this series."),
    "no_sender": _l("The e-mail has no sender."),
    "sender_mismatch": _l("The e-mail was not sent by the person it answers for."),
    "unauthenticated": _l("The sender of the e-mail could not be verified (SPF/DKIM)."),
    "not_allowed": _l("You may only answer for yourself."),
    "bad_partstat": _l("The answer is not accept, decline or tentative."),
    "series_cancelled": _l("The mentoring series has been cancelled."),
    "unknown_occurrence": _l("The reply names a session that is not part of the series."),
    "session_cancelled": _l("That session has been cancelled."),
    "stale": _l("The reply answers an older version of the invitation."),
    "future_sequence": _l("The reply names a version of the invitation that was never sent."),
    "superseded": _l("A newer answer is already recorded."),
    "counter_ambiguous": _l("It is not clear who proposed the new time."),
    "counter_invalid": _l("The proposed time cannot be used (in the past, on a holiday, "
                          "or for a session that is no longer scheduled)."),
    "partial": _l("Part of the reply could not be applied."),
    "decline_unconfirmed": _l("A decline by e-mail takes effect only after the person confirms "
                              "it through the link mailed to their address (the sender could "
                              "not be verified)."),
    "failed": _l("The message could not be processed."),
}
OUTCOMES: dict[str, Any] = {
    "applied": _l("Applied"),
    "partial": _l("Partly applied"),
    "rejected": _l("Rejected"),
    "duplicate": _l("Duplicate"),
    "counter": _l("New time proposed"),
    "held": _l("Awaiting confirmation"),
    "failed": _l("Failed"),
}


def describe(row: InboundMessage) -> str:
    """The user-facing, translated reason of a recorded answer ("" when applied)."""
    if row.outcome == "applied" or not row.reason_code:
        return ""
    return str(REASONS.get(row.reason_code, REASONS["failed"]))


def outcome_label(row: InboundMessage) -> str:
    return str(OUTCOMES.get(row.outcome, row.outcome))


class ReplyRejected(ValueError):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class _Who:
    """Who applies an answer for whom (the audit trail says "on behalf" for staff)."""

    actor: Actor
    source: str
    on_behalf: bool = False


def _record(source: str, digest: str, outcome: str, code: str | None = None,
            reason: str | None = None, *, sender: str | None = None, uid: str | None = None,
            series: SessionSeries | None = None, mailbox_ref: str | None = None,
            details: dict[str, Any] | None = None) -> InboundMessage:
    row = InboundMessage(source=source, digest=digest, outcome=outcome, reason_code=code,
                         reason=(reason or None) and reason[:500],
                         sender=sender[:254] if sender else sender,
                         uid=uid[:255] if uid else uid,
                         series_id=series.id if series is not None else None,
                         mailbox_ref=mailbox_ref, details=details or {})
    db.session.add(row)
    db.session.flush()
    if outcome in ("rejected", "partial", "failed"):
        log.warning("calendar reply %s (%s, uid=%s, inbound #%s): %s", outcome, source, uid,
                    row.id, reason)
    return row


def record_failure(raw_bytes: bytes, *, source: str, reason: str,
                   mailbox_ref: str | None = None, attempts: int = 1) -> InboundMessage:
    """A message whose processing raised (a bug, not bad input): kept visible, not retried."""
    digest = hashlib.sha256(raw_bytes).hexdigest()
    return _record(source, digest, "failed", "failed", reason, mailbox_ref=mailbox_ref,
                   details={"attempts": attempts})


def _sender_problem(parsed: ParsedItip, email: str, source: str) -> tuple[str, str] | None:
    """(code, reason) when the mail's sender may not answer for ``email``."""
    matched = None
    if parsed.sender is not None:
        if parsed.sender == email:
            matched = parsed.sender
        elif parsed.sender_header == email:
            matched = parsed.sender_header  # sent "on behalf": the attendee is the Sender
        else:
            return "sender_mismatch", f"sender {parsed.sender} does not match attendee {email}"
    if source not in EMAIL_SOURCES:
        return None
    if matched is None:
        return "no_sender", "mail without a sender"
    cfg = settings().inbox
    authserv = cfg.authserv_id
    verdict = sender_verdict(parsed.auth_results, authserv, matched)
    if verdict == "fail":
        return "unauthenticated", (f"Authentication-Results of {authserv} show no dkim/spf pass "
                                   f"for {matched.rpartition('@')[2]}")
    if verdict == "none" and cfg.require_authenticated_sender:
        if not authserv:
            return "unauthenticated", ("inbox.require_authenticated_sender is set but "
                                       "inbox.authserv_id is not configured")
        return "unauthenticated", f"no Authentication-Results header of {authserv}"
    return None


def _permission(att: Attendee, series: SessionSeries, actor: Actor, source: str) -> _Who:
    """Uploads / API: staff coordinating the programme answer on behalf of the attendee (and
    the audit log says so); a mentor or mentee may only answer for themselves."""
    if source not in STAFF_SOURCES or actor is None:
        return _Who(actor, source)
    from .access import coordinates

    if getattr(actor, "person_id", None) == att.person_id:
        return _Who(actor, source)
    if coordinates(actor, series.pair.programme_id):
        return _Who(actor, source, on_behalf=True)
    raise ReplyRejected("not_allowed", f"user {getattr(actor, 'id', '?')} may not answer for "
                                       f"{att.email}")


def apply_reply(raw_bytes: bytes, *, source: str, actor: Actor = None,
                mailbox_ref: str | None = None) -> InboundMessage:
    """Check and apply one REPLY or COUNTER (.ics or .eml). Never raises for bad input."""
    digest = hashlib.sha256(raw_bytes).hexdigest()
    seen = db.session.scalar(
        select(InboundMessage.id).where(InboundMessage.digest == digest,
                                        InboundMessage.outcome.not_in(("duplicate", "failed")))
        .limit(1)
    )
    if seen is not None:
        return _record(source, digest, "duplicate", "duplicate", f"same bytes as inbound #{seen}",
                       mailbox_ref=mailbox_ref)
    try:
        parsed = parse_itip(raw_bytes)
    except ItipError as exc:
        return _record(source, digest, "rejected", "malformed",
                       f"malformed: {exc.code}: {exc.message}", mailbox_ref=mailbox_ref)
    common: dict[str, Any] = {"sender": parsed.sender, "uid": parsed.uid,
                              "mailbox_ref": mailbox_ref}
    if parsed.method not in ("REPLY", "COUNTER"):
        return _record(source, digest, "rejected", "not_reply",
                       f"not a REPLY (METHOD {parsed.method})", **common)
    series = None if len(parsed.uid) > 255 else db.session.scalar(
        select(SessionSeries).where(SessionSeries.uid == parsed.uid))  # ours are short
    if series is None:
        return _record(source, digest, "rejected", "unknown_uid", "unknown UID", **common)
    common["series"] = series
    try:
        att = _attendee_of(parsed, series, actor, source)
        problem = _sender_problem(parsed, att.email, source)
        if problem is not None:
            raise ReplyRejected(*problem)
        who = _permission(att, series, actor, source)
    except ReplyRejected as exc:
        return _record(source, digest, "rejected", exc.code, exc.reason, **common)
    if parsed.method == "COUNTER":
        return _counter(parsed, att, series, who, digest, common)
    verified = source not in EMAIL_SOURCES or _sender_verified(parsed, att.email)
    return _reply(parsed, att, who, digest, common, verified=verified)


def _sender_verified(parsed: ParsedItip, email: str) -> bool:
    """True when our mail exchanger's Authentication-Results vouch for the sender."""
    authserv = settings().inbox.authserv_id
    sender = parsed.sender_header if parsed.sender_header == email else (parsed.sender or "")
    return bool(authserv) and sender_verdict(parsed.auth_results, authserv, sender) == "pass"


def _hold_declines(att: Attendee, held: list[ParsedEvent], digest: str) -> None:
    """An unverified e-mail that declines: nothing changes until the attendee confirms through
    signed links mailed to their own address (a forged From: never reaches that inbox)."""
    series = db.session.get_one(SessionSeries, att.series_id)
    person = att.person
    locale = (person.locale if person is not None else None) or "id"
    links = []
    for ev in held:
        session = _session_for(series, ev.recurrence_id)
        if ev.recurrence_id is not None and session is None:
            continue
        start = session.start_at if session is not None else None
        links.append({"whole_series": ev.recurrence_id is None,
                      "start_local": _fmt_start(start, person, locale),
                      "link": invites.rsvp_links(series, att, ev.recurrence_id)["declined"]})
    if links:
        _notify(att.email, locale, "confirm_decline", f"confirm_decline:{digest[:40]}:{att.id}",
                pair=series.pair, links=links, person=person)


def _fmt_start(start: datetime | None, person: Any, locale: str) -> str:
    from .timefmt import format_local

    if start is None:
        return ""
    return format_local(start, person.timezone if person is not None else "Asia/Jakarta",
                        locale)


def _attendee_of(parsed: ParsedItip, series: SessionSeries, actor: Actor, source: str) -> Attendee:
    by_email = {a.email.lower(): a for a in series.attendees}
    if parsed.method == "REPLY":
        email = normalise_email(parsed.attendee_email or "")
        att = by_email.get(email)
        if att is None:
            raise ReplyRejected("not_invitee", f"{email or '?'} is not an invitee")
        return att
    # COUNTER: clients list every attendee; the proposer is the sender (mail), the one
    # attendee named, or the uploading participant
    named = [by_email[e] for e, _ps in parsed.attendees if e in by_email]
    if parsed.sender in by_email:
        return by_email[parsed.sender]
    if parsed.sender is not None:
        raise ReplyRejected("sender_mismatch", f"sender {parsed.sender} is not an invitee")
    if len(named) == 1:
        return named[0]
    mine = [a for a in named if a.person_id == getattr(actor, "person_id", None)]
    if len(mine) == 1:
        return mine[0]
    raise ReplyRejected("counter_ambiguous", "COUNTER without a single identifiable proposer")


def _reply(parsed: ParsedItip, att: Attendee, who: _Who, digest: str,
           common: dict[str, Any], *, verified: bool = True) -> InboundMessage:
    # One answer per series/occurrence: a client repeating the same VEVENT (300 copies
    # declining one session were seen) must not apply it - and notify - 300 times. The
    # latest DTSTAMP of each wins.
    latest: dict[datetime | None, ParsedEvent] = {}
    for ev in parsed.events:
        had = latest.get(ev.recurrence_id)
        if had is None or (ev.dtstamp or _EPOCH) > (had.dtstamp or _EPOCH):
            latest[ev.recurrence_id] = ev
    # occurrences first: a mentor's "decline all" on the series then cancels cleanly after
    events = sorted(latest.values(), key=lambda e: e.recurrence_id is None)
    results: list[dict[str, Any]] = []
    errors: list[ReplyRejected] = []
    held: list[ParsedEvent] = []
    if not verified:
        held = [ev for ev in events if (ev.partstat or "").upper() == "DECLINED"]
        events = [ev for ev in events if ev not in held]
        for ev in held:
            results.append({"rid": _iso(ev.recurrence_id), "partstat": ev.partstat,
                            "outcome": "held"})
        _hold_declines(att, held, digest)
    for ev in events:
        try:
            _apply(att, ev.partstat or "", ev.recurrence_id, ev.sequence, ev.dtstamp, who)
            results.append({"rid": _iso(ev.recurrence_id), "partstat": ev.partstat,
                            "outcome": "applied"})
        except ReplyRejected as exc:
            errors.append(exc)
            results.append({"rid": _iso(ev.recurrence_id), "partstat": ev.partstat,
                            "outcome": exc.code, "reason": exc.reason})
    details: dict[str, Any] = {"events": results}
    if who.on_behalf:
        details["on_behalf_of"] = att.person_id
    if held:
        reason = ("unverified sender: decline held until confirmed by the link mailed to "
                  f"{att.email}")
        if not events:
            return _record(who.source, digest, "held", "decline_unconfirmed", reason,
                           details=details, **common)
        if errors:
            reason += "; " + "; ".join(e.reason for e in errors)
        return _record(who.source, digest, "partial", "decline_unconfirmed", reason,
                       details=details, **common)
    if not errors:
        return _record(who.source, digest, "applied", details=details, **common)
    if len(errors) == len(events):
        first = errors[-1]  # the series' own answer when there was one
        reason = "; ".join(e.reason for e in errors)
        return _record(who.source, digest, "rejected", first.code, reason, details=details,
                       **common)
    return _record(who.source, digest, "partial", "partial",
                   "; ".join(f"{r['rid'] or 'series'}: {r['reason']}" for r in results
                             if r["outcome"] != "applied"), details=details, **common)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def apply_partstat(attendee: Attendee, partstat: str, recurrence_id: datetime | None,
                   actor: Actor, source: str, *, sequence: int | None = None) -> InboundMessage:
    """The in-app button / one-click link path: same checks and effects as a mailed REPLY.
    ``sequence`` (a link's) is checked like a REPLY's; None means "the current version"."""
    now = utcnow()
    series = db.session.get_one(SessionSeries, attendee.series_id)
    seq = _version(series, _session_for(series, recurrence_id))[0] if sequence is None \
        else sequence
    digest = hashlib.sha256(
        f"{source}:{attendee.id}:{partstat}:{recurrence_id}:{seq}:{now.isoformat()}".encode()
    ).hexdigest()
    common: dict[str, Any] = {"sender": attendee.email, "uid": series.uid, "series": series}
    on_behalf = actor is not None and getattr(actor, "person_id", None) != attendee.person_id
    who = _Who(actor, source, on_behalf=on_behalf)
    try:
        _apply(attendee, partstat.upper(), recurrence_id, seq, now, who)
    except ReplyRejected as exc:
        return _record(source, digest, "rejected", exc.code, exc.reason, **common)
    return _record(source, digest, "applied",
                   details={"events": [{"rid": _iso(recurrence_id), "partstat": partstat.upper(),
                                        "outcome": "applied"}]}, **common)


def _session_for(series: SessionSeries, rid: datetime | None) -> Session | None:
    if rid is None:
        return None
    return next((s for s in series.sessions if s.recurrence_id == rid), None)


def _version(series: SessionSeries, session: Session | None) -> tuple[int, datetime | None]:
    """(current SEQUENCE, when it was issued) of the series or of one occurrence."""
    if session is not None and session.sequence > series.sequence:
        return session.sequence, session.sequence_changed_at
    return series.sequence, series.sequence_changed_at


def _effective_sequence(series: SessionSeries, session: Session | None, seq: int | None,
                        dtstamp: datetime | None) -> int:
    current, changed_at = _version(series, session)
    if seq is not None:
        if seq > current:
            raise ReplyRejected("future_sequence",
                                f"SEQUENCE {seq} was never sent (current {current})")
        if seq < current:
            raise ReplyRejected("stale", f"stale SEQUENCE {seq} (current {current})")
        return seq
    if current == 0:
        return 0  # never changed: the only version there is
    if dtstamp is None or changed_at is None:
        raise ReplyRejected("stale", "no SEQUENCE and no DTSTAMP to order it after the last "
                                     f"change (current {current})")
    if dtstamp < changed_at:
        raise ReplyRejected("stale", f"no SEQUENCE; DTSTAMP {dtstamp.isoformat()} is before "
                                     f"the last change {changed_at.isoformat()}")
    return current


def _apply(att: Attendee, partstat: str, rid: datetime | None, seq: int | None,
           dtstamp: datetime | None, who: _Who) -> None:
    series = db.session.get_one(SessionSeries, att.series_id)
    if partstat not in ANSWERS:
        raise ReplyRejected("bad_partstat", f"PARTSTAT {partstat or '?'} is not an answer")
    if series.status == "cancelled":
        raise ReplyRejected("series_cancelled", "the series is cancelled")
    session = _session_for(series, rid)
    if rid is not None and session is None:
        raise ReplyRejected("unknown_occurrence",
                            "RECURRENCE-ID is not an occurrence of the series")
    if session is not None and session.status == "cancelled":
        raise ReplyRejected("session_cancelled", "that occurrence is cancelled")
    seq = _effective_sequence(series, session, seq, dtstamp)
    stamp = dtstamp or utcnow()
    if rid is None:
        if att.answered_sequence is not None and not supersedes(
            seq, stamp, att.answered_sequence, att.answered_at
        ):
            raise ReplyRejected("superseded", "stale: an equal or newer answer is already "
                                              "recorded")
        att.partstat, att.answered_sequence, att.answered_at = partstat, seq, stamp
    else:
        row = db.session.scalar(select(OccurrenceResponse).where(
            OccurrenceResponse.attendee_id == att.id, OccurrenceResponse.recurrence_id == rid))
        if row is not None and not supersedes(seq, stamp, row.answered_sequence,
                                              row.answered_at):
            raise ReplyRejected("superseded", "stale: an equal or newer answer is already "
                                              "recorded")
        if row is None:
            row = OccurrenceResponse(attendee_id=att.id, recurrence_id=rid)
            db.session.add(row)
        row.partstat, row.answered_sequence, row.answered_at = partstat, seq, stamp
    db.session.flush()
    pair = series.pair
    audit.record(who.actor, "attendee.answer", att, programme_id=pair.programme_id,
                 partstat=partstat, source=who.source, sequence=seq,
                 recurrence_id=rid.isoformat() if rid else None,
                 attendee_person_id=att.person_id,
                 on_behalf_of=att.person_id if who.on_behalf else None)
    if rid is not None:
        if partstat == "DECLINED" and session is not None:
            _occurrence_declined(series, att, session, stamp)
        return
    if att.role == "mentor":
        if partstat == "ACCEPTED" and pair.status == "invited":
            pair.status = "active"
        elif partstat == "DECLINED" and pair.is_live:
            _mentor_declined(series, att, who.actor)
    elif partstat == "DECLINED" and pair.is_live:
        _mentee_declined(series, att, who.actor, stamp)


def _notify(to_email: str, locale: str, template: str, key: str, **ctx: Any) -> None:
    from .mailer import build_message, enqueue

    subject, text, html = invites.render(template, locale, base_url=invites.base_url(), **ctx)
    enqueue(build_message(to_email, subject, text, html), kind=template, dedupe_key=key)


def _mentor_declined(series: SessionSeries, att: Attendee, actor: Actor) -> None:
    """Pair declined: sessions to come cancelled (CANCEL to the mentee), coordinators told;
    the pair is no longer live, so the mentee can be matched again."""
    pair = series.pair
    pair.status, pair.ended_at = "declined", utcnow()
    pair.end_reason = "mentor declined the invitation"
    others = [a for a in series.attendees if a.id != att.id]
    invites.cancel_series(series, actor=actor, notify=others)
    for user in invites.coordinators_of(pair.programme_id):
        _notify(user.email, user.locale or "id", "decline_notice",
                f"decline:{series.uid}:{user.id}", pair=pair, series=series, coordinator=user)
    mentee = pair.mentee  # told in words, not just by a calendar CANCEL: they will be re-matched
    _notify(mentee.email, mentee.locale or "id", "mentor_declined_mentee",
            f"decline:{series.uid}:mentee", pair=pair)
    audit.record(actor, "pair.declined", pair, programme_id=pair.programme_id)


def _mentee_declined(series: SessionSeries, att: Attendee, actor: Actor, stamp: datetime) -> None:
    """The pair stays as it is (the coordinator decides what next); coordinators and the
    mentor are told, and the decline is on record."""
    pair = series.pair
    key = f"mentee_decline:{series.uid}:{int(stamp.timestamp())}"
    for user in invites.coordinators_of(pair.programme_id):
        _notify(user.email, user.locale or "id", "mentee_decline_notice", f"{key}:u{user.id}",
                pair=pair, series=series, for_coordinator=True)
    mentor = pair.mentor
    _notify(mentor.email, mentor.locale or "id", "mentee_decline_notice", f"{key}:p{mentor.id}",
            pair=pair, series=series, for_coordinator=False)
    audit.record(actor, "pair.mentee_declined", pair, programme_id=pair.programme_id,
                 series_uid=series.uid)


def _occurrence_declined(series: SessionSeries, att: Attendee, session: Session,
                         stamp: datetime) -> None:
    """One session declined: the other member of the pair is told."""
    from .timefmt import format_local

    for other in series.attendees:
        if other.id == att.id:
            continue
        p = other.person
        locale = p.locale or "id"
        _notify(other.email, locale, "occurrence_decline_notice",
                f"occ_decline:{series.uid}:{session.id}:{att.id}:{int(stamp.timestamp())}",
                pair=series.pair, person=p, who=att.person,
                start_local=format_local(session.start_at, p.timezone, locale))


def _counter(parsed: ParsedItip, att: Attendee, series: SessionSeries, who: _Who, digest: str,
             common: dict[str, Any]) -> InboundMessage:
    from .timefmt import format_local

    ev: ParsedEvent = parsed.events[0]
    details: dict[str, Any] = {"recurrence_id": _iso(ev.recurrence_id),
                               "proposed_start": _iso(ev.dtstart),
                               "proposed_end": _iso(ev.dtend), "role": att.role,
                               "comment": ev.comment}
    try:
        if series.status == "cancelled":
            raise ReplyRejected("series_cancelled", "the series is cancelled")
        session = _session_for(series, ev.recurrence_id)
        if ev.recurrence_id is not None and session is None:
            raise ReplyRejected("unknown_occurrence",
                                "RECURRENCE-ID is not an occurrence of the series")
        _effective_sequence(series, session, ev.sequence, ev.dtstamp)
        target = session or next((s for s in series.sessions if s.status == "scheduled"
                                  and s.start_at > utcnow()), None)
        if target is None or ev.dtstart is None:
            raise ReplyRejected("counter_invalid", "no scheduled session to move")
        try:
            invites.validate_new_start(target, ev.dtstart, new_end=ev.dtend)
        except invites.InviteError as exc:
            raise ReplyRejected("counter_invalid", f"proposed time refused: {exc.code}") from exc
    except ReplyRejected as exc:
        if who.source in EMAIL_SOURCES:
            # the proposer hears back: a silent refusal leaves them waiting for an answer
            p = att.person
            locale = (p.locale if p is not None else None) or "id"
            _notify(att.email, locale, "counter_refused", f"counter_refused:{digest[:40]}",
                    pair=series.pair, reason=REASONS.get(exc.code, REASONS["failed"]),
                    proposed_local=_fmt_start(ev.dtstart, p, locale))
        return _record(who.source, digest, "rejected", exc.code, exc.reason, details=details,
                       **common)
    pair = series.pair
    as_proposal = att.role == "mentor" and session is not None
    if as_proposal and session is not None:
        session.proposed_start = ev.dtstart  # the mentee answers it on their home page
    details["proposal"] = as_proposal
    db.session.flush()
    proposer = att.person
    for user in invites.coordinators_of(pair.programme_id):
        locale = user.locale or "id"
        tz = user.person.timezone if user.person is not None else series.tzid
        _notify(user.email, locale, "counter_notice", f"counter:{digest[:32]}:u{user.id}",
                pair=pair, proposer=proposer, for_coordinator=True, whole_series=session is None,
                as_proposal=as_proposal, comment=ev.comment,
                current_local=format_local(target.start_at, tz, locale),
                proposed_local=format_local(ev.dtstart, tz, locale))
    for other in series.attendees:
        if other.id == att.id:
            continue
        p = other.person
        locale = p.locale or "id"
        _notify(other.email, locale, "counter_notice", f"counter:{digest[:32]}:p{p.id}",
                pair=pair, proposer=proposer, for_coordinator=False,
                whole_series=session is None, as_proposal=as_proposal, comment=ev.comment,
                current_local=format_local(target.start_at, p.timezone, locale),
                proposed_local=format_local(ev.dtstart, p.timezone, locale))
    audit.record(who.actor, "attendee.counter", att, programme_id=pair.programme_id,
                 source=who.source, proposed_start=_iso(ev.dtstart),
                 recurrence_id=_iso(ev.recurrence_id), proposal=as_proposal,
                 on_behalf_of=att.person_id if who.on_behalf else None)
    log.info("calendar COUNTER recorded for series %s from %s (%s)", series.uid, att.role,
             "proposal" if as_proposal else "notice only")
    return _record(who.source, digest, "counter", None, None, details=details, **common)
