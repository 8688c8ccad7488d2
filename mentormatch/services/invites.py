"""Session series for approved pairs and the iTIP messages (REQUEST / CANCEL) they cause.

Services flush, never commit: every message is written to the outbox in the caller's
transaction, so a rolled-back change sends nothing.

Only sessions still to come can move: held, logged, cancelled or past sessions stay where they
were. Every move of a session is checked against public holidays and cuti bersama again. Each
change raises SEQUENCE and records when it did (``sequence_changed_at``), which orders replies
that carry no SEQUENCE.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import joinedload, selectinload

from .. import urls
from ..calendar import (
    Attendee as ItipAttendee,
)
from ..calendar import (
    FeedSeries,
    OccurrenceOverride,
    SeriesSpec,
    build_cancel,
    build_feed,
    build_occurrence_request,
    build_request,
    plan_occurrences,
    sign_rsvp,
)
from ..calendar.email import compose_invite_bytes
from ..calendar.holidays import OccurrencePlan, holiday_name
from ..calendar.model import recurrence_starts
from ..extensions import db
from ..models import (
    Actor,
    Attendee,
    AuditLog,
    Competency,
    OccurrenceResponse,
    Pair,
    Person,
    ProgrammeCoordinator,
    Session,
    SessionLog,
    SessionSeries,
    User,
    utcnow,
)
from ..settings import settings
from . import audit, busy, mailer
from .catalogue import by_code
from .errors import ServiceError
from .timefmt import format_local

UTC = ZoneInfo("UTC")
RSVP_VALID = timedelta(days=120)

#: InviteError.code -> what a user reads
INVITE_ERRORS: dict[str, Any] = {
    "not_scheduled": _l("Only a scheduled session can be moved."),
    "in_past": _l("This session has already started or taken place; it cannot be moved."),
    "logged": _l("This session already has notes logged; it cannot be moved."),
    "bad_time": _l("The new time is not valid."),
    "new_time_past": _l("The new time is in the past."),
    "holiday": _l("The new date is a public holiday or cuti bersama."),
    "series_cancelled": _l("The mentoring series has been cancelled."),
    "busy": _l("The mentor or the mentee already has another session at that time."),
}


class InviteError(ServiceError):
    """A refused schedule change; ``code`` is a key of :data:`INVITE_ERRORS`."""

    messages = INVITE_ERRORS

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.args = (f"{code}: {detail}" if detail else code,)
        self.detail = detail

    @property
    def message(self) -> str:
        return self.user_message()


def base_url() -> str:
    return urls.base_url()


def coordinators_of(programme_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(ProgrammeCoordinator, ProgrammeCoordinator.user_id == User.id)
        .where(ProgrammeCoordinator.programme_id == programme_id).order_by(User.id)
    ))


def mail_context() -> AbstractContextManager[Any]:
    """Kept for callers: e-mails render with an application context only (links from
    ``app.base_url``), so nothing has to be pushed."""
    return nullcontext()


def render(template: str, locale: str, **ctx: Any) -> tuple[str, str, str]:
    """mailer.render_email, also from a job (see :func:`mail_context`)."""
    with mail_context():
        return mailer.render_email(template, locale, **ctx)


def _organizer_of(pair: Pair) -> str:
    return pair.programme.mailbox or settings().mail.from_address


def _focus_names(pair: Pair, locale: str, codes: dict[str, Competency]) -> list[str]:
    return [codes[c].name(locale) if c in codes else c for c in (pair.focus or [])]


def _summary(pair: Pair) -> str:
    return f"Mentoring: {pair.mentor.name} & {pair.mentee.name}"


def _description(pair: Pair, codes: dict[str, Competency]) -> str:
    """The calendar text, in Indonesian (one object for both attendees; each one's e-mail
    around it is in their own language)."""
    focus = ", ".join(_focus_names(pair, "id", codes)) or "-"
    return (
        f"Sesi mentoring MentorMatch ASN ({pair.programme.name}).\n"
        f"Fokus kompetensi: {focus}"
    )


@lru_cache(maxsize=8192)
def _local(value: datetime, tz: str, locale: str) -> str:
    """format_local, memoised: a round's pairs share a handful of weekly slots, so two thousand
    invitations show the same few dozen session times."""
    return format_local(value, tz, locale)


def _plan(first_start_utc: datetime, interval: int, count: int, tzid: str,
          is_holiday: Any, memo: dict[tuple[Any, ...], OccurrencePlan] | None = None
          ) -> OccurrencePlan:
    key = (first_start_utc, interval, count, tzid)
    if memo is not None and key in memo:
        return memo[key]
    plan = plan_occurrences(first_start_utc, interval, count, tzid, is_holiday=is_holiday)
    if memo is not None:
        memo[key] = plan
    return plan


@dataclass(frozen=True)
class NewSeries:
    """One newly approved pair's series: its first session (UTC), how many, and where."""

    pair: Pair
    first_start_utc: datetime
    count: int | None = None
    location: str | None = None


#: pairs handled per step of :func:`create_series_many` (bounds memory and statement size)
SERIES_CHUNK = 500


def create_series_many(items: Sequence[NewSeries], *, actor: Actor, invite: bool = True,
                       is_holiday: Any = None) -> list[int]:
    """The series of many pairs at once (a round's approval), each with its sessions, its two
    attendees, its audit entry and - with ``invite`` - the REQUEST to each attendee (what
    :func:`send_invites` sends for one series), written with multi-row INSERTs, the catalogue
    read once and each zone's VTIMEZONE and each
    session time formatted once. The statement count depends on the number of chunks of
    :data:`SERIES_CHUNK` pairs, not on the number of pairs. Flushes; returns the series ids in
    the order of ``items``."""
    codes = by_code() if invite else {}
    memo: dict[tuple[Any, ...], OccurrencePlan] = {}
    ids: list[int] = []
    with mail_context() if invite else nullcontext():
        for start in range(0, len(items), SERIES_CHUNK):
            ids += _series_chunk(items[start:start + SERIES_CHUNK], actor=actor, invite=invite,
                                 is_holiday=is_holiday, codes=codes, memo=memo)
    return ids


def _rows_insert(model: type) -> Any:
    """A multi-row ORM INSERT that writes None as NULL: otherwise rows with and without a
    value (a location, say) are grouped apart and the INSERT splits into many statements."""
    return insert(model).execution_options(render_nulls=True)


def _series_chunk(items: Sequence[NewSeries], *, actor: Actor, invite: bool, is_holiday: Any,
                  codes: dict[str, Competency], memo: dict[tuple[Any, ...], OccurrencePlan]
                  ) -> list[int]:
    domain = settings().mail.message_id_domain
    now = utcnow()
    rows: list[dict[str, Any]] = []
    plans: list[OccurrencePlan] = []
    for item in items:
        prog = item.pair.programme
        count = item.count or prog.session_count
        tzid = item.pair.mentor.timezone
        plan = _plan(item.first_start_utc, prog.interval_weeks, count, tzid, is_holiday, memo)
        plans.append(plan)
        rows.append({
            "pair_id": item.pair.id, "uid": f"{uuid.uuid4()}@{domain}", "sequence": 0,
            "tzid": tzid, "first_start": plan.dtstart.astimezone(UTC),
            "duration_minutes": prog.session_minutes, "interval_weeks": prog.interval_weeks,
            "count": count, "location": item.location, "meeting_url": prog.meeting_url,
            "status": "active", "sequence_changed_at": now, "created_at": now,
            "updated_at": now,
        })
    if not rows:
        return []
    # a multi-row INSERT, then the ids by uid: SQLite cannot return them in order and the
    # ORM would fall back to one INSERT per row
    db.session.execute(_rows_insert(SessionSeries), rows)
    by_uid = dict(db.session.execute(select(SessionSeries.uid, SessionSeries.id).where(
        SessionSeries.uid.in_([r["uid"] for r in rows]))).all())
    ids = [by_uid[r["uid"]] for r in rows]
    sessions, attendees, entries = [], [], []
    for item, row, plan, sid in zip(items, rows, plans, ids, strict=True):
        length = timedelta(minutes=row["duration_minutes"])
        for start in plan.starts:
            s = start.astimezone(UTC)
            sessions.append({"series_id": sid, "recurrence_id": s, "start_at": s,
                             "end_at": s + length, "sequence": 0, "status": "scheduled"})
        for person, role in ((item.pair.mentor, "mentor"), (item.pair.mentee, "mentee")):
            attendees.append({"series_id": sid, "person_id": person.id,
                              "email": person.email.lower(), "role": role,
                              "partstat": "NEEDS-ACTION", "invited_at": now})
        entries.append({
            "at": now, "actor_id": getattr(actor, "id", None), "action": "series.create",
            "object_type": SessionSeries.__name__.lower(), "object_id": sid,
            "programme_id": item.pair.programme_id,
            "details": {"uid": row["uid"], "sessions": len(plan.starts),
                        "skipped": [d.isoformat() for d in plan.all_skipped]}})
    db.session.execute(_rows_insert(Session), sessions)
    db.session.execute(_rows_insert(Attendee), attendees)
    db.session.execute(_rows_insert(AuditLog), entries)
    if invite:
        mailer.enqueue_many(_new_series_mail(items, rows, plans, codes))
    return ids


def _new_series_mail(items: Sequence[NewSeries], rows: list[dict[str, Any]],
                     plans: list[OccurrencePlan], codes: dict[str, Competency]
                     ) -> Iterator[mailer.Outgoing]:
    """The REQUEST of each new series to its mentor and mentee (what send_invites writes)."""
    for item, row, plan in zip(items, rows, plans, strict=True):
        pair = item.pair
        # a transient, unsaved row: what the templates read of a series
        series = SessionSeries(**{k: v for k, v in row.items()
                                  if k not in ("created_at", "updated_at")})
        people = ((pair.mentor, "mentor"), (pair.mentee, "mentee"))
        spec = _spec(pair, uid=row["uid"], sequence=0, tzid=row["tzid"],
                     first_start=row["first_start"], minutes=row["duration_minutes"],
                     interval=row["interval_weeks"], rrule_count=plan.rrule_count,
                     exdates=plan.skipped, location=row["location"],
                     meeting_url=row["meeting_url"], codes=codes,
                     attendees=[(p.email.lower(), p.name, "NEEDS-ACTION") for p, _r in people])
        ics = build_request(spec)
        starts = [s.astimezone(UTC) for s in plan.starts]
        for person, role in people:
            yield _mail_for(series, pair, person, role, person.email.lower(), ics=ics,
                            method="REQUEST", template="invite", starts=starts, codes=codes,
                            key=f"invite:{row['uid']}:0", link_sequence=0)


# --------------------------------------------------------------------------- spec


def kept_sessions(series: SessionSeries) -> list[Session]:
    """The sessions an ended series keeps (held, logged or past: not cancelled). Empty for a
    live series and for one cancelled before any session took place."""
    if series.status != "cancelled":
        return []
    return [s for s in series.sessions if s.status != "cancelled"]


def _range_end(series: SessionSeries) -> datetime:
    """The last RECURRENCE-ID the series' RRULE covers: an ended series ends at the last
    session it keeps, so what was cancelled ahead is simply no longer part of it."""
    kept = kept_sessions(series)
    return max(s.recurrence_id for s in (kept or series.sessions))


def _rrule_starts(series: SessionSeries) -> list[datetime]:
    tz = ZoneInfo(series.tzid)
    last = _range_end(series)
    out = []
    for start in recurrence_starts(series.first_start, series.interval_weeks,
                                   series.count * 6 + 8, tz):
        if start.astimezone(UTC) > last:
            break
        out.append(start)
    return out


def _spec(pair: Pair, *, uid: str, sequence: int, tzid: str, first_start: datetime,
          minutes: int, interval: int, rrule_count: int, exdates: Sequence[datetime],
          location: str | None, meeting_url: str | None, codes: dict[str, Competency],
          attendees: Sequence[tuple[str, str, str]]) -> SeriesSpec:
    return SeriesSpec(
        uid=uid,
        sequence=sequence,
        summary=_summary(pair),
        organizer_email=_organizer_of(pair),
        organizer_name=settings().mail.from_name,
        tzid=tzid,
        first_start=first_start,
        duration=timedelta(minutes=minutes),
        interval_weeks=interval,
        count=rrule_count,
        description=_description(pair, codes),
        location=location or "",
        url=meeting_url or "",
        exdates=tuple(exdates),
        attendees=tuple(ItipAttendee(email=e, name=name, partstat=partstat)
                        for e, name, partstat in attendees),
    )


def series_spec(series: SessionSeries, codes: dict[str, Competency] | None = None
                ) -> SeriesSpec:
    """The iCalendar view of a stored series (EXDATEs derived from the stored sessions)."""
    rids = {s.recurrence_id for s in series.sessions}
    starts = _rrule_starts(series)
    return _spec(
        series.pair, uid=series.uid, sequence=series.sequence, tzid=series.tzid,
        first_start=series.first_start, minutes=series.duration_minutes,
        interval=series.interval_weeks, rrule_count=len(starts),
        exdates=[s for s in starts if s.astimezone(UTC) not in rids],
        location=series.location, meeting_url=series.meeting_url,
        codes=by_code() if codes is None else codes,
        attendees=[(a.email, a.person.name, a.partstat) for a in series.attendees],
    )


def overrides_for(series: SessionSeries) -> list[OccurrenceOverride]:
    out = []
    last = _range_end(series)
    for s in series.sessions:
        if s.recurrence_id > last:
            continue  # cut off when the series ended: outside its RRULE now
        if s.status == "cancelled":
            out.append(OccurrenceOverride(recurrence_id=s.recurrence_id, cancelled=True,
                                          sequence=s.sequence))
        elif s.start_at != s.recurrence_id or s.end_at - s.start_at != timedelta(
            minutes=series.duration_minutes
        ):
            out.append(OccurrenceOverride(recurrence_id=s.recurrence_id, start=s.start_at,
                                          end=s.end_at, sequence=s.sequence))
    return out


# --------------------------------------------------------------------------- mail


def _links(uid: str, email: str, sequence: int, recurrence_id: datetime | None = None
           ) -> dict[str, str]:
    secret = current_app.config["SECRET_KEY"]
    base = base_url()
    exp = utcnow() + RSVP_VALID
    return {
        p.lower(): f"{base}/rsvp/"
        + sign_rsvp(secret, uid, email, p, sequence, exp, recurrence_id)
        for p in ("ACCEPTED", "DECLINED")
    }


def _link_sequence(series: SessionSeries, recurrence_id: datetime | None) -> int:
    """The SEQUENCE a link answers: the series', or its occurrence's when that is higher."""
    session = next((s for s in series.sessions if s.recurrence_id == recurrence_id), None)
    return max(series.sequence, session.sequence) if session is not None else series.sequence


def rsvp_links(series: SessionSeries, att: Attendee, recurrence_id: datetime | None = None,
               sequence: int | None = None) -> dict[str, str]:
    """Signed one-click links (for the series, or one occurrence with ``recurrence_id``).
    Built from ``app.base_url`` (works in jobs, without a request)."""
    if sequence is None:
        sequence = _link_sequence(series, recurrence_id)
    return _links(series.uid, att.email, sequence, recurrence_id)


def _mail_for(series: SessionSeries, pair: Pair, person: Person, role: str, email: str, *,
              ics: bytes, method: str, template: str, starts: Sequence[datetime],
              codes: dict[str, Competency], key: str, link_sequence: int | None,
              link_rid: datetime | None = None, **ctx: Any) -> mailer.Outgoing:
    """One attendee's iMIP mail: rendered in their language, times in their zone, the
    calendar object attached. ``starts``: the sessions to list (still to come);
    ``link_sequence`` None: no one-click links. Call inside :func:`mail_context`."""
    locale = person.locale or "id"
    tz = person.timezone
    context = dict(
        person=person, pair=pair, series=series, role=role,
        focus=_focus_names(pair, locale, codes),
        first_local=_local(starts[0], tz, locale),
        sessions=[_local(s, tz, locale) for s in starts],
        links=_links(series.uid, email, link_sequence, link_rid)
        if link_sequence is not None else None,
        base_url=base_url(),
        **ctx,
    )
    if ctx.get("cancelled_session") is not None:
        context["cancelled_local"] = _local(ctx["cancelled_session"].start_at, tz, locale)
    if ctx.get("rescheduled_at") is not None:
        context["rescheduled"] = _local(ctx["rescheduled_at"], tz, locale)
    if ctx.get("cancelled_starts") is not None:
        context["cancelled_list"] = [_local(x, tz, locale) for x in ctx["cancelled_starts"]]
    subject, text, html = mailer.render_email(template, locale, **context)
    mail = compose_invite_bytes(
        from_addr=mailer._from_header(), to_addr=email, subject=subject,
        text_body=text, html_body=html, ics=ics, method=method,
        filename="cancel.ics" if method == "CANCEL" else "invite.ics",
        msgid_domain=settings().mail.message_id_domain, language=locale,
    )
    return mailer.Outgoing(kind=f"itip_{method.lower()}", recipient=email, subject=mail.subject,
                           message_id=mail.message_id, raw=mail.raw,
                           dedupe_key=f"{key}:{email}")


def _send(series: SessionSeries, ics: bytes, method: str, template: str, *,
          to: list[Attendee], key: str, links: bool = True,
          link_rid: datetime | None = None, **ctx: Any) -> int:
    now = utcnow()
    live = [s for s in series.sessions if s.status != "cancelled"] or series.sessions
    first = [s for s in live if s.end_at > now] or live  # what is still to come
    codes = by_code()
    sequence = _link_sequence(series, link_rid) if links else None
    with mail_context():
        mails = [
            _mail_for(series, series.pair, att.person, att.role, att.email, ics=ics,
                      method=method, template=template, starts=[s.start_at for s in first],
                      codes=codes, key=key, link_sequence=sequence, link_rid=link_rid, **ctx)
            for att in to
        ]
    return mailer.enqueue_many(mails)


def send_invites(series: SessionSeries, *, to: list[Attendee] | None = None) -> int:
    """REQUEST for the whole series (with moved/cancelled occurrences) to each attendee."""
    codes = by_code()
    spec = series_spec(series, codes)
    ics = build_request(spec, overrides_for(series))
    return _send(series, ics, "REQUEST", "invite", to=to or list(series.attendees),
                 key=f"invite:{series.uid}:{series.sequence}")


def _next_sequence(series: SessionSeries) -> int:
    return max([series.sequence, *(s.sequence for s in series.sessions)]) + 1


def _holiday(series: SessionSeries, start: datetime, is_holiday: Any = None) -> str | None:
    """The holiday name (or True-ish text) when ``start`` falls on one, in the series' zone."""
    day = start.astimezone(ZoneInfo(series.tzid)).date()
    if is_holiday is not None:
        return "holiday" if is_holiday(day) else None
    return holiday_name(day)


def _logged(session_ids: list[int]) -> set[int]:
    if not session_ids:
        return set()
    return set(db.session.scalars(
        select(SessionLog.session_id).where(SessionLog.session_id.in_(session_ids))))


def validate_new_start(session: Session, new_start: datetime, *, now: datetime | None = None,
                       is_holiday: Any = None, new_end: datetime | None = None) -> None:
    """Raise :class:`InviteError` unless ``session`` may move to ``new_start``: it is still to
    come, scheduled and not logged, and the new time is in the future, not a holiday and free
    in both people's calendars (their sessions of every programme)."""
    now = now or utcnow()
    series = session.series
    if series.status != "active":
        raise InviteError("series_cancelled")
    if session.status != "scheduled":
        raise InviteError("not_scheduled")
    if session.start_at <= now:
        raise InviteError("in_past")
    if _logged([session.id]):
        raise InviteError("logged")
    if new_start.tzinfo is None or new_start.utcoffset() is None:
        raise InviteError("bad_time")
    if new_start <= now:
        raise InviteError("new_time_past")
    name = _holiday(series, new_start, is_holiday)
    if name:
        raise InviteError("holiday", name)
    end = new_end or new_start + (session.end_at - session.start_at)
    hit = busy.first_clash([a.person for a in series.attendees], new_start, end,
                           exclude_session_id=session.id)
    if hit is not None:
        raise InviteError("busy", f"{hit[0].name}: {hit[1].programme}")


def _forget_answers(series: SessionSeries, rids: list[datetime]) -> None:
    """Per-occurrence answers to an old time are void once the occurrence moved."""
    if not rids:
        return
    db.session.execute(
        delete(OccurrenceResponse)
        .where(OccurrenceResponse.attendee_id.in_([a.id for a in series.attendees]),
               OccurrenceResponse.recurrence_id.in_(rids))
        .execution_options(synchronize_session="fetch")
    )


def reschedule_session(session: Session, new_start: datetime, *, actor: Actor,
                       new_end: datetime | None = None, now: datetime | None = None,
                       is_holiday: Any = None) -> Session:
    """Move one session still to come: a REQUEST with its RECURRENCE-ID and a raised SEQUENCE,
    with one-click Accept / Decline links for that session. Raises :class:`InviteError`."""
    validate_new_start(session, new_start, now=now, is_holiday=is_holiday, new_end=new_end)
    series = session.series
    new_start = new_start.astimezone(UTC)
    new_end = (new_end or new_start + (session.end_at - session.start_at)).astimezone(UTC)
    if new_end <= new_start:
        raise InviteError("bad_time")
    spec = series_spec(series)
    seq = _next_sequence(series)
    ics = build_occurrence_request(spec, session.recurrence_id, new_start, new_end, seq)
    session.start_at, session.end_at, session.sequence = new_start, new_end, seq
    session.sequence_changed_at = utcnow()
    session.proposed_start = None
    _forget_answers(series, [session.recurrence_id])
    db.session.flush()
    _send(series, ics, "REQUEST", "invite", to=list(series.attendees),
          key=f"resched:{series.uid}:{session.recurrence_id.isoformat()}:{seq}",
          links=True, link_rid=session.recurrence_id, rescheduled_at=new_start)
    audit.record(actor, "session.reschedule", session, programme_id=series.pair.programme_id,
                 sequence=seq, start=new_start.isoformat())
    return session


def cancel_series(series: SessionSeries, *, actor: Actor, now: datetime | None = None,
                  notify: list[Attendee] | None = None) -> SessionSeries:
    """End the series: only the sessions still to come are cancelled. When nothing has taken
    place yet this is a CANCEL of the whole series; otherwise a REQUEST with a raised SEQUENCE
    whose RRULE ends at the last session kept (held, logged or past), so calendars and feeds
    keep the history and drop only what lies ahead."""
    now = now or utcnow()
    spec = series_spec(series)
    seq = _next_sequence(series)
    ahead = [s for s in series.sessions if s.status == "scheduled" and s.start_at > now]
    cancelled_starts = [s.start_at for s in ahead]
    series.sequence, series.status = seq, "cancelled"
    series.sequence_changed_at = utcnow()
    for s in ahead:
        s.status = "cancelled"
    db.session.flush()
    kept = kept_sessions(series)
    to = list(notify or series.attendees)
    if not kept:
        ics = build_cancel(spec, sequence=seq)
        _send(series, ics, "CANCEL", "invite_cancel", to=to,
              key=f"cancel:{series.uid}:series:{seq}", links=False, cancelled_session=None,
              cancelled_starts=cancelled_starts, held=0)
    else:
        cut = series_spec(series)
        cut = replace(cut, attendees=tuple(replace(a, rsvp=False) for a in cut.attendees))
        ics = build_request(cut, overrides_for(series))
        _send(series, ics, "REQUEST", "invite_cancel", to=to,
              key=f"cancel:{series.uid}:series:{seq}", links=False, cancelled_session=None,
              cancelled_starts=cancelled_starts, held=len(kept))
    audit.record(actor, "series.cancel", series, programme_id=series.pair.programme_id,
                 cancelled=len(ahead), kept=len(kept))
    return series


def feed_for(person: Person) -> bytes:
    """The person's subscription feed: every series they are invited to. A fixed number of
    queries however many series (calendar clients poll it): sessions, attendees and the pair
    with its people and programme are loaded with the series."""
    rows = db.session.scalars(
        select(SessionSeries)
        .join(Attendee, Attendee.series_id == SessionSeries.id)
        .where(Attendee.person_id == person.id)
        .options(selectinload(SessionSeries.sessions),
                 selectinload(SessionSeries.attendees).joinedload(Attendee.person),
                 joinedload(SessionSeries.pair).options(
                     joinedload(Pair.mentor), joinedload(Pair.mentee),
                     joinedload(Pair.programme)))
        .order_by(SessionSeries.id)
    ).unique()
    codes = by_code()  # once, not per series
    items = [
        FeedSeries(series_spec(s, codes), tuple(overrides_for(s)),
                   cancelled=s.status == "cancelled" and not kept_sessions(s))
        for s in rows
        if s.sessions
    ]
    return build_feed(items, name=f"MentorMatch - {person.name}")
