"""The scheduler's follow-up rules: session reminders, log nudges, chasing and escalating
unanswered invitations, marking missed sessions, the coordinators' weekly digest.

Each rule polls database state ("due and not yet done"), so a repeated or missed run does no
harm; mail goes through the outbox with a dedupe key. A rule is a generator that yields once
per unit of work (a session, an attendee, a coordinator) with how many e-mails that unit
queued: the job that runs it commits after each unit, the rule itself only flushes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import InstrumentedAttribute

from .. import urls
from ..extensions import db
from ..models import (
    Attendee,
    OccurrenceResponse,
    Pair,
    ProgrammeCoordinator,
    Session,
    SessionLog,
    SessionSeries,
    User,
)
from ..settings import settings
from . import invites, mailer
from .participant_mail import locale_of
from .timefmt import format_local

REMINDER_LEADS = (timedelta(hours=24), timedelta(hours=1))


def _queue(to: str, template: str, locale: str, key: str, **ctx: Any) -> bool:
    subject, text, html = invites.render(template, locale, **ctx)
    row = mailer.enqueue(mailer.build_message(to, subject, text, html), kind=template,
                         dedupe_key=key)
    return row is not None


def _coordinators(programme_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(ProgrammeCoordinator, ProgrammeCoordinator.user_id == User.id)
        .where(ProgrammeCoordinator.programme_id == programme_id)
    ))


def _declined(att: Attendee, session: Session) -> bool:
    if att.partstat == "DECLINED":
        return True
    return bool(db.session.scalar(select(exists().where(
        OccurrenceResponse.attendee_id == att.id,
        OccurrenceResponse.recurrence_id == session.recurrence_id,
        OccurrenceResponse.partstat == "DECLINED"))))


def _live_sessions() -> Select[Session]:
    return (
        select(Session).join(SessionSeries, Session.series_id == SessionSeries.id)
        .join(Pair, SessionSeries.pair_id == Pair.id)
        .where(Session.status == "scheduled", SessionSeries.status == "active",
               Pair.live())
    )


def _unanswered(before: datetime,
                column: InstrumentedAttribute[datetime | None]) -> Select[Attendee]:
    return (
        select(Attendee).join(SessionSeries, Attendee.series_id == SessionSeries.id)
        .join(Pair, SessionSeries.pair_id == Pair.id)
        .where(Attendee.partstat == "NEEDS-ACTION", Attendee.invited_at <= before,
               column.is_(None), SessionSeries.status == "active",
               Pair.live())
    )


def reminders(now: datetime) -> Iterator[int]:
    """24 h and 1 h before each scheduled session, once per (session, lead, person, version)."""
    horizon = now + max(REMINDER_LEADS)
    sessions = db.session.scalars(
        _live_sessions().where(Session.start_at > now, Session.start_at <= horizon)
    ).all()
    for s in sessions:
        # the smallest lead whose window has opened: 1 h beats 24 h, never both late
        due = [lead for lead in sorted(REMINDER_LEADS) if s.start_at - lead <= now]
        if not due:
            continue
        lead = due[0]
        hours = int(lead.total_seconds() // 3600)
        sent = 0
        for att in s.series.attendees:
            if _declined(att, s):
                continue
            p = att.person
            locale = p.locale or "id"
            key = f"reminder:{s.id}:{s.sequence}:{hours}h:{p.id}"
            if _queue(att.email, "reminder", locale, key, person=p, pair=s.series.pair,
                      series=s.series, hours=hours,
                      start_local=format_local(s.start_at, p.timezone, locale)):
                sent += 1
        yield sent


def log_nudges(now: datetime) -> Iterator[int]:
    """After a session ends, ask the mentee to log notes (once per session)."""
    rows = db.session.scalars(
        _live_sessions().where(Session.end_at <= now, Session.end_at > now - timedelta(days=3))
        .where(~exists().where(SessionLog.session_id == Session.id))
    ).all()
    for s in rows:
        mentee = s.series.pair.mentee
        locale = mentee.locale or "id"
        yield int(_queue(mentee.email, "nudge_log", locale, f"nudge:{s.id}:{s.sequence}",
                         person=mentee, pair=s.series.pair,
                         start_local=format_local(s.start_at, mentee.timezone, locale),
                         base_url=settings().app.base_url.rstrip("/")))


def chase_invites(now: datetime) -> Iterator[int]:
    """Remind an invitee who has not answered after ``chase_after_days`` (once)."""
    days = settings().scheduler.chase_after_days
    for att in db.session.scalars(_unanswered(now - timedelta(days=days), Attendee.chased_at)):
        series = db.session.get_one(SessionSeries, att.series_id)
        p = att.person
        locale = p.locale or "id"
        _queue(att.email, "chase_invite", locale, f"chase:{att.id}:{series.sequence}",
               person=p, pair=series.pair, links=invites.rsvp_links(series, att))
        att.chased_at = now
        db.session.flush()
        yield 1


def escalate(now: datetime) -> Iterator[int]:
    """Tell the programmes' coordinators about invitations unanswered after
    ``escalate_after_days``: each invitation once, all of a run's in ONE mail per coordinator
    (grouped by programme), so a round of silence is a summary, not a flood."""
    days = settings().scheduler.escalate_after_days
    due = db.session.scalars(
        _unanswered(now - timedelta(days=days), Attendee.escalated_at)
        .order_by(Pair.programme_id, Attendee.invited_at, Attendee.id)).all()
    if not due:
        return
    readers: dict[int, tuple[User, list[tuple[Attendee, SessionSeries]]]] = {}
    for att in due:
        series = db.session.get_one(SessionSeries, att.series_id)
        for user in _coordinators(series.pair.programme_id):
            readers.setdefault(user.id, (user, []))[1].append((att, series))
        att.escalated_at = now
    sent = 0
    for user, atts in readers.values():
        locale = locale_of(user.person, user)
        tz = user.person.timezone if user.person else settings().app.default_timezone
        groups: dict[int, dict[str, Any]] = {}
        for att, series in atts:
            pair = series.pair
            group = groups.setdefault(pair.programme_id, {
                "programme": pair.programme, "rows": [], "invited": False})
            group["invited"] = group["invited"] or pair.status == "invited"
            group["rows"].append({
                "attendee": att, "pair": pair, "days": (now - att.invited_at).days,
                "since": format_local(att.invited_at, tz, locale)})
        for pid, group in groups.items():
            group["link"] = urls.external(
                "pairs.index", pid=pid, status="invited" if group["invited"] else "active")
        ids = ",".join(f"{a.id}.{series.sequence}" for a, series in atts)
        key = f"escalate:{user.id}:{hashlib.sha256(ids.encode()).hexdigest()[:32]}"
        sent += int(_queue(user.email, "escalate", locale, key, user=user,
                           groups=list(groups.values()), count=len(atts)))
    db.session.flush()
    yield sent


def mark_missed(now: datetime) -> int:
    """Past sessions still 'scheduled' with no log after `missed_after_days` become missed -
    of every series, including ended, declined or withdrawn pairs (their past stays true)."""
    days = settings().scheduler.missed_after_days
    rows = db.session.scalars(
        select(Session).where(Session.status == "scheduled",
                              Session.end_at <= now - timedelta(days=days))
        .where(~exists().where(SessionLog.session_id == Session.id))
    ).all()
    for s in rows:
        s.status = "missed"
    db.session.flush()
    return len(rows)


def weekly_digests(now: datetime) -> Iterator[int]:
    """Once a week (configured weekday/hour, local to the default zone) to each coordinator."""
    cfg = settings().scheduler
    local = now.astimezone(ZoneInfo(settings().app.default_timezone))
    if local.weekday() != cfg.digest_weekday or local.hour < cfg.digest_hour_local:
        return
    week = local.strftime("%G-W%V")
    users = db.session.scalars(
        select(User).where(exists().where(ProgrammeCoordinator.user_id == User.id))
    ).all()
    since = now - timedelta(days=7)
    for user in users:
        pids = select(ProgrammeCoordinator.programme_id).where(
            ProgrammeCoordinator.user_id == user.id)
        base = (
            select(Session).join(SessionSeries, Session.series_id == SessionSeries.id)
            .join(Pair, SessionSeries.pair_id == Pair.id).where(Pair.programme_id.in_(pids))
        )
        past = db.session.scalars(base.where(Session.start_at > since,
                                             Session.start_at <= now)).all()
        upcoming = db.session.scalars(base.where(Session.status == "scheduled",
                                                 Session.start_at > now,
                                                 Session.start_at <= now + timedelta(days=7)))
        pending = db.session.scalars(_unanswered(now, Attendee.escalated_at).where(
            Pair.programme_id.in_(pids))).all()
        stats = {
            "held": sum(1 for s in past if s.status == "held"),
            "missed": sum(1 for s in past if s.status == "missed"),
            "planned": len(past),
            "upcoming": len(list(upcoming)),
            "unanswered": len(pending),
        }
        yield int(_queue(user.email, "digest", user.locale or "id", f"digest:{user.id}:{week}",
                         user=user, stats=stats, week=week))


__all__ = ["REMINDER_LEADS", "chase_invites", "escalate", "log_nudges", "mark_missed",
           "reminders", "weekly_digests"]
