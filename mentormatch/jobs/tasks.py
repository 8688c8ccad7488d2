"""The job bodies. Each polls database state ("due and not yet done"), so a repeated or missed
run does no harm; mail goes through the outbox with a dedupe key; each commits per unit."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, select

from ..extensions import db
from ..mail.inbox import ImapInbox, ImapSettings
from ..models import (
    Attendee,
    OccurrenceResponse,
    Pair,
    ProgrammeCoordinator,
    Session,
    SessionLog,
    SessionSeries,
    User,
    utcnow,
)
from ..services import invites, mailer
from ..services.dispatch import dispatch_outbox, make_transport
from ..services.replies import apply_reply
from ..services.timefmt import format_local

log = logging.getLogger(__name__)

REMINDER_LEADS = (timedelta(hours=24), timedelta(hours=1))
LIVE_PAIRS = ("invited", "active")


def _cfg(section: str) -> dict[str, Any]:
    return current_app.config["MM"][section]


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


# --------------------------------------------------------------------------- mail in/out


def run_dispatch(now: datetime | None = None, *, worker: str = "scheduler",
                 transport: Any = None) -> int:
    transport = transport or make_transport(current_app)
    lease = timedelta(seconds=max(int(_cfg("scheduler")["lease_seconds"]) * 5, 300))
    try:
        result = dispatch_outbox(transport, worker=worker, now=now, lease=lease)
    finally:
        transport.close()
    return result.sent


def inbox_settings() -> ImapSettings:
    cfg = _cfg("inbox")
    return ImapSettings(
        host=cfg["imap_host"], port=int(cfg["imap_port"]), security=cfg["imap_security"],
        username=cfg["imap_username"], folder=cfg.get("imap_folder", "INBOX"),
        password=os.environ.get("MENTORMATCH_IMAP_PASSWORD", ""),
    )


def poll_inbox(now: datetime | None = None, *, inbox: ImapInbox | None = None,
               limit: int = 50) -> int:
    """Apply unseen REPLY mails. Commit first, then mark processed: a crash in between means
    the mail is read again and recorded as a 'duplicate' (same bytes), never applied twice."""
    if inbox is None:
        if not _cfg("inbox").get("enabled"):
            return 0
        inbox = ImapInbox(inbox_settings())
    done = 0
    with inbox:
        for mail in inbox.fetch_unseen(limit=limit):
            try:
                apply_reply(mail.raw_bytes, source="imap")
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("inbox mail uid %s could not be applied", mail.uid)
                continue
            inbox.mark_processed(mail)
            done += 1
    return done


# --------------------------------------------------------------------------- reminders etc.


def _declined(att: Attendee, session: Session) -> bool:
    if att.partstat == "DECLINED":
        return True
    return bool(db.session.scalar(select(exists().where(
        OccurrenceResponse.attendee_id == att.id,
        OccurrenceResponse.recurrence_id == session.recurrence_id,
        OccurrenceResponse.partstat == "DECLINED"))))


def _live_sessions():
    return (
        select(Session).join(SessionSeries, Session.series_id == SessionSeries.id)
        .join(Pair, SessionSeries.pair_id == Pair.id)
        .where(Session.status == "scheduled", SessionSeries.status == "active",
               Pair.status.in_(LIVE_PAIRS))
    )


def reminders(now: datetime | None = None) -> int:
    """24 h and 1 h before each scheduled session, once per (session, lead, person, version)."""
    now = now or utcnow()
    horizon = now + max(REMINDER_LEADS)
    sessions = db.session.scalars(
        _live_sessions().where(Session.start_at > now, Session.start_at <= horizon)
    ).all()
    sent = 0
    for s in sessions:
        # the smallest lead whose window has opened: 1 h beats 24 h, never both late
        due = [lead for lead in sorted(REMINDER_LEADS) if s.start_at - lead <= now]
        if not due:
            continue
        lead = due[0]
        hours = int(lead.total_seconds() // 3600)
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
        db.session.commit()
    return sent


def nudge_log(now: datetime | None = None) -> int:
    """After a session ends, ask the mentee to log notes (once per session)."""
    now = now or utcnow()
    rows = db.session.scalars(
        _live_sessions().where(Session.end_at <= now, Session.end_at > now - timedelta(days=3))
        .where(~exists().where(SessionLog.session_id == Session.id))
    ).all()
    sent = 0
    for s in rows:
        mentee = s.series.pair.mentee
        locale = mentee.locale or "id"
        if _queue(mentee.email, "nudge_log", locale, f"nudge:{s.id}:{s.sequence}",
                  person=mentee, pair=s.series.pair,
                  start_local=format_local(s.start_at, mentee.timezone, locale),
                  base_url=_cfg("app")["base_url"].rstrip("/")):
            sent += 1
        db.session.commit()
    return sent


def _unanswered(before: datetime, column: Any):
    return (
        select(Attendee).join(SessionSeries, Attendee.series_id == SessionSeries.id)
        .join(Pair, SessionSeries.pair_id == Pair.id)
        .where(Attendee.partstat == "NEEDS-ACTION", Attendee.invited_at <= before,
               column.is_(None), SessionSeries.status == "active",
               Pair.status.in_(LIVE_PAIRS))
    )


def chase_invites(now: datetime | None = None) -> int:
    now = now or utcnow()
    days = int(_cfg("scheduler")["chase_after_days"])
    sent = 0
    for att in db.session.scalars(_unanswered(now - timedelta(days=days), Attendee.chased_at)):
        series = db.session.get(SessionSeries, att.series_id)
        p = att.person
        locale = p.locale or "id"
        _queue(att.email, "chase_invite", locale, f"chase:{att.id}:{series.sequence}",
               person=p, pair=series.pair, links=invites.rsvp_links(series, att))
        att.chased_at = now
        db.session.commit()
        sent += 1
    return sent


def escalate(now: datetime | None = None) -> int:
    now = now or utcnow()
    days = int(_cfg("scheduler")["escalate_after_days"])
    sent = 0
    for att in db.session.scalars(_unanswered(now - timedelta(days=days), Attendee.escalated_at)):
        series = db.session.get(SessionSeries, att.series_id)
        for user in _coordinators(series.pair.programme_id):
            _queue(user.email, "escalate", user.locale or "id",
                   f"escalate:{att.id}:{series.sequence}:{user.id}", pair=series.pair,
                   attendee=att, days=days)
            sent += 1
        att.escalated_at = now
        db.session.commit()
    return sent


def mark_missed(now: datetime | None = None) -> int:
    now = now or utcnow()
    days = int(_cfg("scheduler")["missed_after_days"])
    rows = db.session.scalars(
        _live_sessions().where(Session.end_at <= now - timedelta(days=days))
        .where(~exists().where(SessionLog.session_id == Session.id))
    ).all()
    for s in rows:
        s.status = "missed"
    db.session.commit()
    return len(rows)


def weekly_digest(now: datetime | None = None) -> int:
    """Once a week (configured weekday/hour, local to the default zone) to each coordinator."""
    now = now or utcnow()
    cfg = _cfg("scheduler")
    local = now.astimezone(ZoneInfo(_cfg("app").get("default_timezone", "Asia/Jakarta")))
    if local.weekday() != int(cfg["digest_weekday"]) or local.hour < int(cfg["digest_hour_local"]):
        return 0
    week = local.strftime("%G-W%V")
    users = db.session.scalars(
        select(User).where(exists().where(ProgrammeCoordinator.user_id == User.id))
    ).all()
    sent = 0
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
        if _queue(user.email, "digest", user.locale or "id", f"digest:{user.id}:{week}",
                  user=user, stats=stats, week=week):
            sent += 1
        db.session.commit()
    return sent
