"""Session series for approved pairs and the iTIP messages (REQUEST / CANCEL) they cause.

Services flush, never commit: every message is written to the outbox in the caller's
transaction, so a rolled-back change sends nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context
from sqlalchemy import select

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
    compose_invite_email,
    plan_occurrences,
    sign_rsvp,
)
from ..calendar.model import recurrence_starts
from ..extensions import db
from ..models import Attendee, Pair, Person, Session, SessionSeries, utcnow
from . import audit, mailer
from .catalogue import by_code
from .timefmt import format_local

UTC = ZoneInfo("UTC")
RSVP_VALID = timedelta(days=120)


def _mm() -> dict[str, Any]:
    return current_app.config["MM"]


def render(template: str, locale: str, **ctx: Any) -> tuple[str, str, str]:
    """mailer.render_email, also from a job: the app's template context processors read the
    request session, so outside a request a throwaway request context is pushed."""
    if has_request_context():
        return mailer.render_email(template, locale, **ctx)
    with current_app.test_request_context(base_url=_mm()["app"]["base_url"]):
        return mailer.render_email(template, locale, **ctx)


def _organizer(series: SessionSeries) -> str:
    return series.pair.programme.mailbox or _mm()["mail"]["from_address"]


def _focus_names(pair: Pair, locale: str) -> list[str]:
    codes = by_code()
    return [codes[c].name(locale) if c in codes else c for c in (pair.focus or [])]


def _summary(pair: Pair) -> str:
    return f"Mentoring: {pair.mentor.name} & {pair.mentee.name}"


def _description(pair: Pair) -> str:
    focus = ", ".join(_focus_names(pair, "id")) or "-"
    focus_en = ", ".join(_focus_names(pair, "en")) or "-"
    return (
        f"Sesi mentoring MentorMatch ASN ({pair.programme.name}).\n"
        f"Fokus kompetensi: {focus}\nFocus competencies: {focus_en}"
    )


def create_series_for_pair(
    pair: Pair,
    first_start_utc: datetime,
    *,
    actor: Any,
    count: int | None = None,
    interval_weeks: int | None = None,
    duration_minutes: int | None = None,
    is_holiday: Any = None,
) -> SessionSeries:
    """A series in the mentor's zone, holidays skipped (EXDATE) and extended to ``count``."""
    programme = pair.programme
    count = count or programme.session_count
    interval = interval_weeks or programme.interval_weeks
    minutes = duration_minutes or programme.session_minutes
    tzid = pair.mentor.timezone
    plan = plan_occurrences(first_start_utc, interval, count, tzid, is_holiday=is_holiday)
    series = SessionSeries(
        pair_id=pair.id,
        uid=f"{uuid.uuid4()}@{_mm()['mail']['message_id_domain']}",
        sequence=0,
        tzid=tzid,
        first_start=plan.dtstart.astimezone(UTC),
        duration_minutes=minutes,
        interval_weeks=interval,
        count=count,
        meeting_url=programme.meeting_url,
        status="active",
    )
    series.pair = pair
    for start in plan.starts:
        s = start.astimezone(UTC)
        series.sessions.append(
            Session(recurrence_id=s, start_at=s, end_at=s + timedelta(minutes=minutes))
        )
    for person, role in ((pair.mentor, "mentor"), (pair.mentee, "mentee")):
        series.attendees.append(
            Attendee(person_id=person.id, email=person.email.lower(), role=role,
                     invited_at=utcnow())
        )
    db.session.add(series)
    db.session.flush()
    audit.record(actor, "series.create", series, programme_id=pair.programme_id,
                 uid=series.uid, sessions=len(plan.starts),
                 skipped=[d.isoformat() for d in plan.all_skipped])
    return series


# --------------------------------------------------------------------------- spec


def _rrule_starts(series: SessionSeries) -> list[datetime]:
    tz = ZoneInfo(series.tzid)
    last = max(s.recurrence_id for s in series.sessions)
    out = []
    for start in recurrence_starts(series.first_start, series.interval_weeks,
                                   series.count * 6 + 8, tz):
        if start.astimezone(UTC) > last:
            break
        out.append(start)
    return out


def series_spec(series: SessionSeries) -> SeriesSpec:
    """The iCalendar view of a stored series (EXDATEs derived from the stored sessions)."""
    rids = {s.recurrence_id for s in series.sessions}
    starts = _rrule_starts(series)
    exdates = tuple(s for s in starts if s.astimezone(UTC) not in rids)
    pair = series.pair
    return SeriesSpec(
        uid=series.uid,
        sequence=series.sequence,
        summary=_summary(pair),
        organizer_email=_organizer(series),
        organizer_name=_mm()["mail"]["from_name"],
        tzid=series.tzid,
        first_start=series.first_start,
        duration=timedelta(minutes=series.duration_minutes),
        interval_weeks=series.interval_weeks,
        count=len(starts),
        description=_description(pair),
        location=series.location or "",
        url=series.meeting_url or "",
        exdates=exdates,
        attendees=tuple(
            ItipAttendee(email=a.email, name=a.person.name, partstat=a.partstat)
            for a in series.attendees
        ),
    )


def overrides_for(series: SessionSeries) -> list[OccurrenceOverride]:
    out = []
    for s in series.sessions:
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


def rsvp_links(series: SessionSeries, att: Attendee, recurrence_id: datetime | None = None,
               sequence: int | None = None) -> dict[str, str]:
    """Signed one-click links. Built from ``app.base_url`` (works in jobs, without a request)."""
    secret = current_app.config["SECRET_KEY"]
    base = _mm()["app"]["base_url"].rstrip("/")
    seq = series.sequence if sequence is None else sequence
    exp = utcnow() + RSVP_VALID
    return {
        p.lower(): f"{base}/rsvp/"
        + sign_rsvp(secret, series.uid, att.email, p, seq, exp, recurrence_id)
        for p in ("ACCEPTED", "DECLINED")
    }


def _send(series: SessionSeries, ics: bytes, method: str, template: str, *,
          to: list[Attendee], key: str, links: bool = True, **ctx: Any) -> int:
    sent = 0
    for att in to:
        person: Person = att.person
        locale = person.locale or "id"
        tz = person.timezone
        first = [s for s in series.sessions if s.status != "cancelled"] or series.sessions
        context = dict(
            person=person, pair=series.pair, series=series, role=att.role,
            focus=_focus_names(series.pair, locale),
            first_local=format_local(first[0].start_at, tz, locale),
            sessions=[format_local(s.start_at, tz, locale) for s in first],
            links=rsvp_links(series, att, ctx.get("recurrence_id")) if links else None,
            base_url=_mm()["app"]["base_url"].rstrip("/"),
            **ctx,
        )
        if ctx.get("cancelled_session") is not None:
            context["cancelled_local"] = format_local(
                ctx["cancelled_session"].start_at, tz, locale)
        if ctx.get("rescheduled_at") is not None:
            context["rescheduled"] = format_local(ctx["rescheduled_at"], tz, locale)
        subject, text, html = render(template, locale, **context)
        msg = compose_invite_email(
            from_addr=mailer._from_header(), to_addr=att.email, subject=subject,
            text_body=text, html_body=html, ics=ics, method=method,
            filename="cancel.ics" if method == "CANCEL" else "invite.ics",
            msgid_domain=_mm()["mail"]["message_id_domain"], language=locale,
        )
        if mailer.enqueue(msg, kind=f"itip_{method.lower()}",
                          dedupe_key=f"{key}:{att.email}") is not None:
            sent += 1
    return sent


def send_invites(series: SessionSeries, *, to: list[Attendee] | None = None) -> int:
    """REQUEST for the whole series (with moved/cancelled occurrences) to each attendee."""
    spec = series_spec(series)
    ics = build_request(spec, overrides_for(series))
    return _send(series, ics, "REQUEST", "invite", to=to or list(series.attendees),
                 key=f"invite:{series.uid}:{series.sequence}")


def _next_sequence(series: SessionSeries) -> int:
    return max([series.sequence, *(s.sequence for s in series.sessions)]) + 1


def reschedule_session(session: Session, new_start: datetime, *, actor: Any,
                       new_end: datetime | None = None) -> Session:
    series = session.series
    if session.status != "scheduled":
        raise ValueError("only a scheduled session can be moved")
    new_start = new_start.astimezone(UTC)
    new_end = (new_end or new_start + (session.end_at - session.start_at)).astimezone(UTC)
    spec = series_spec(series)
    seq = _next_sequence(series)
    ics = build_occurrence_request(spec, session.recurrence_id, new_start, new_end, seq)
    session.start_at, session.end_at, session.sequence = new_start, new_end, seq
    db.session.flush()
    _send(series, ics, "REQUEST", "invite", to=list(series.attendees),
          key=f"resched:{series.uid}:{session.recurrence_id.isoformat()}:{seq}",
          links=False, rescheduled_at=new_start)
    audit.record(actor, "session.reschedule", session, programme_id=series.pair.programme_id,
                 sequence=seq)
    return session


def move_series(series: SessionSeries, new_first_start: datetime, *, actor: Any) -> SessionSeries:
    """Shift every still-scheduled session by the same wall-clock amount; SEQUENCE raised."""
    tz = ZoneInfo(series.tzid)
    old_local = series.first_start.astimezone(tz).replace(tzinfo=None)
    delta = new_first_start.astimezone(tz).replace(tzinfo=None) - old_local

    def shift(value: datetime) -> datetime:
        wall = value.astimezone(tz).replace(tzinfo=None) + delta
        return wall.replace(tzinfo=tz).astimezone(UTC)

    series.sequence = _next_sequence(series)
    series.first_start = shift(series.first_start)
    for s in series.sessions:
        length = s.end_at - s.start_at
        s.recurrence_id = shift(s.recurrence_id)
        s.start_at = shift(s.start_at)
        s.end_at = s.start_at + length
        s.sequence = series.sequence
    for a in series.attendees:
        a.partstat, a.answered_sequence, a.answered_at = "NEEDS-ACTION", None, None
        a.invited_at, a.chased_at, a.escalated_at = utcnow(), None, None
    db.session.flush()
    send_invites(series)
    audit.record(actor, "series.move", series, programme_id=series.pair.programme_id,
                 sequence=series.sequence)
    return series


def cancel_session(session: Session, *, actor: Any) -> Session:
    series = session.series
    spec = series_spec(series)
    seq = _next_sequence(series)
    moved = session.start_at != session.recurrence_id
    ics = build_cancel(spec, session.recurrence_id, sequence=seq,
                       current_start=session.start_at if moved else None,
                       current_end=session.end_at if moved else None)
    session.status, session.sequence = "cancelled", seq
    db.session.flush()
    _send(series, ics, "CANCEL", "invite_cancel", to=list(series.attendees),
          key=f"cancel:{series.uid}:{session.recurrence_id.isoformat()}:{seq}", links=False,
          cancelled_session=session)
    audit.record(actor, "session.cancel", session, programme_id=series.pair.programme_id)
    return session


def cancel_series(series: SessionSeries, *, actor: Any, now: datetime | None = None,
                  notify: list[Attendee] | None = None) -> SessionSeries:
    """CANCEL the whole series; sessions still to come are cancelled."""
    now = now or utcnow()
    spec = series_spec(series)
    seq = _next_sequence(series)
    ics = build_cancel(spec, sequence=seq)
    series.sequence, series.status = seq, "cancelled"
    for s in series.sessions:
        if s.status == "scheduled" and s.start_at > now:
            s.status = "cancelled"
    db.session.flush()
    _send(series, ics, "CANCEL", "invite_cancel", to=list(notify or series.attendees),
          key=f"cancel:{series.uid}:series:{seq}", links=False, cancelled_session=None)
    audit.record(actor, "series.cancel", series, programme_id=series.pair.programme_id)
    return series


def feed_for(person: Person) -> bytes:
    """The person's subscription feed: every series they are invited to."""
    rows = db.session.scalars(
        select(SessionSeries)
        .join(Attendee, Attendee.series_id == SessionSeries.id)
        .where(Attendee.person_id == person.id)
        .order_by(SessionSeries.id)
    ).unique()
    items = [
        FeedSeries(series_spec(s), tuple(overrides_for(s)), cancelled=s.status == "cancelled")
        for s in rows
        if s.sessions
    ]
    return build_feed(items, name=f"MentorMatch - {person.name}")
