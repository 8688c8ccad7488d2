"""The job bodies. Each polls database state ("due and not yet done"), so a repeated or missed
run does no harm; mail goes through the outbox with a dedupe key; each commits per unit."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, select

from ..extensions import db
from ..mail.inbox import ImapInbox, ImapSettings, InboxError
from ..models import (
    Attendee,
    InboxCursor,
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
from ..services.lease import Fence, LeaseLost
from ..services.replies import apply_reply, record_failure
from ..services.timefmt import format_local
from ..settings import settings

log = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------- mail in/out


def run_dispatch(now: datetime | None = None, *, worker: str = "scheduler",
                 transport: Any = None, fence: Fence | None = None) -> int:
    """Send the due outbox under the scheduler's fence; returns how many were sent."""
    transport = transport or make_transport(current_app)
    try:
        result = dispatch_outbox(transport, worker=worker, now=now, fence=fence)
    finally:
        transport.close()
    if result.lease_lost:
        raise LeaseLost("dispatch stopped: the scheduler lease was lost")
    return result.sent


def inbox_settings() -> ImapSettings:
    cfg = settings().inbox
    return ImapSettings(
        host=cfg.imap_host, port=cfg.imap_port, security=cfg.imap_security,
        username=cfg.imap_username, folder=cfg.imap_folder,
        processed_folder=cfg.processed_folder or None, password=cfg.imap_password,
    )


def _cursor(inbox: ImapInbox) -> InboxCursor:
    """This folder's cursor; a new UIDVALIDITY (folder recreated) starts it from zero - the
    replies read again are recognised by their bytes and recorded as duplicates."""
    validity = inbox.current_uidvalidity()
    cursor = db.session.get(InboxCursor, inbox.cursor_name)
    if cursor is None:
        cursor = InboxCursor(name=inbox.cursor_name, uidvalidity=validity, last_uid=0,
                             failing_attempts=0)
        db.session.add(cursor)
    elif cursor.uidvalidity != validity:
        log.warning("inbox %s: UIDVALIDITY changed (%s -> %s); reading the folder again",
                    inbox.cursor_name, cursor.uidvalidity, validity)
        cursor.uidvalidity, cursor.last_uid = validity, 0
        cursor.failing_uid, cursor.failing_attempts = None, 0
    db.session.commit()
    return cursor


def poll_inbox(now: datetime | None = None, *, inbox: ImapInbox | None = None,
               limit: int | None = None, fence: Fence | None = None) -> int:
    """Apply the REPLY mails that arrived since the cursor (UIDVALIDITY + last UID).

    Each message's effect and the cursor move commit together, so a crash never applies a
    reply twice nor skips one. A message whose processing raises is retried on the next polls
    (``inbox.max_attempts``, default 3) and then recorded as ``failed`` with its reason, so one
    bad mail cannot block the mailbox forever. Returns the number of messages handled."""
    cfg = settings().inbox
    if inbox is None:
        if not cfg.enabled:
            return 0
        inbox = ImapInbox(inbox_settings())
    limit = limit or cfg.batch
    max_attempts = cfg.max_attempts
    done = 0
    with inbox:
        cursor = _cursor(inbox)
        name = cursor.name
        for mail in inbox.fetch_after(cursor.last_uid, limit=limit):
            if fence is not None:
                fence.check()
            ref = f"{inbox.settings.folder};UIDVALIDITY={mail.uidvalidity};UID={mail.uid}"
            try:
                apply_reply(mail.raw_bytes, source="imap", mailbox_ref=ref)
                cursor = db.session.get(InboxCursor, name)
                cursor.last_uid, cursor.failing_uid, cursor.failing_attempts = mail.uid, None, 0
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - recorded, retried a bounded number of times
                db.session.rollback()
                log.exception("inbox message %s could not be processed", ref)
                cursor = db.session.get(InboxCursor, name)
                attempts = cursor.failing_attempts + 1 if cursor.failing_uid == mail.uid else 1
                if attempts < max_attempts:
                    cursor.failing_uid, cursor.failing_attempts = mail.uid, attempts
                    db.session.commit()
                    break  # keep the order: try this one again on the next poll
                record_failure(mail.raw_bytes, source="imap", mailbox_ref=ref,
                               reason=f"{type(exc).__name__}: {exc}", attempts=attempts)
                cursor.last_uid, cursor.failing_uid, cursor.failing_attempts = mail.uid, None, 0
                db.session.commit()
            done += 1
            try:
                inbox.move_processed(mail)
            except InboxError as exc:  # the cursor already says "handled"
                log.warning("inbox message %s handled but not moved: %s", ref, exc.message)
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
               Pair.live())
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
                  base_url=settings().app.base_url.rstrip("/")):
            sent += 1
        db.session.commit()
    return sent


def _unanswered(before: datetime, column: Any):
    return (
        select(Attendee).join(SessionSeries, Attendee.series_id == SessionSeries.id)
        .join(Pair, SessionSeries.pair_id == Pair.id)
        .where(Attendee.partstat == "NEEDS-ACTION", Attendee.invited_at <= before,
               column.is_(None), SessionSeries.status == "active",
               Pair.live())
    )


def chase_invites(now: datetime | None = None) -> int:
    now = now or utcnow()
    days = settings().scheduler.chase_after_days
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
    days = settings().scheduler.escalate_after_days
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
    """Past sessions still 'scheduled' with no log after `missed_after_days` become missed -
    of every series, including ended, declined or withdrawn pairs (their past stays true)."""
    now = now or utcnow()
    days = settings().scheduler.missed_after_days
    rows = db.session.scalars(
        select(Session).where(Session.status == "scheduled",
                              Session.end_at <= now - timedelta(days=days))
        .where(~exists().where(SessionLog.session_id == Session.id))
    ).all()
    for s in rows:
        s.status = "missed"
    db.session.commit()
    return len(rows)


def weekly_digest(now: datetime | None = None) -> int:
    """Once a week (configured weekday/hour, local to the default zone) to each coordinator."""
    now = now or utcnow()
    cfg = settings().scheduler
    local = now.astimezone(ZoneInfo(settings().app.default_timezone))
    if local.weekday() != cfg.digest_weekday or local.hour < cfg.digest_hour_local:
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
