"""The job bodies. Each polls database state ("due and not yet done"), so a repeated or missed
run does no harm; mail goes through the outbox with a dedupe key; each commits per unit. The
rules are services - follow-ups (reminders, chasing, escalation, missed sessions, digests) in
services/reminders.py, the reply mailbox's cursor in services/inbox_cursor.py: the jobs here
only run them and commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import current_app

from ..extensions import db
from ..mail.inbox import ImapInbox, ImapSettings, InboxError
from ..models import utcnow
from ..services import inbox_cursor
from ..services import reminders as follow_up
from ..services.dispatch import dispatch_outbox, make_transport
from ..services.lease import Fence, LeaseLost
from ..settings import settings

log = logging.getLogger(__name__)

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


def poll_inbox(now: datetime | None = None, *, inbox: ImapInbox | None = None,
               limit: int | None = None, fence: Fence | None = None) -> int:
    """Apply the REPLY mails that arrived since the cursor, committing after each one (the
    rules for the cursor and for a message that keeps failing: services/inbox_cursor.py).
    Returns the number of messages handled."""
    cfg = settings().inbox
    if inbox is None:
        if not cfg.enabled:
            return 0
        inbox = ImapInbox(inbox_settings())
    limit = limit or cfg.batch
    done = 0
    with inbox:
        cursor = inbox_cursor.open_cursor(inbox)
        name, last_uid = cursor.name, cursor.last_uid
        db.session.commit()
        for mail in inbox.fetch_after(last_uid, limit=limit):
            if fence is not None:
                fence.check()
            ref = f"{inbox.settings.folder};UIDVALIDITY={mail.uidvalidity};UID={mail.uid}"
            try:
                inbox_cursor.apply_message(name, mail, ref)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - recorded, retried a bounded number of times
                db.session.rollback()
                log.exception("inbox message %s could not be processed", ref)
                again = inbox_cursor.message_failed(name, mail, ref, exc, cfg.max_attempts)
                db.session.commit()
                if again:
                    break  # keep the order: try this one again on the next poll
            done += 1
            try:
                inbox.move_processed(mail)
            except InboxError as exc:  # the cursor already says "handled"
                log.warning("inbox message %s handled but not moved: %s", ref, exc.message)
    return done


# --------------------------------------------------------------------------- follow-ups
# The rules live in services/reminders.py; each job runs one and commits per unit of work.


def _per_unit(units: Iterable[int]) -> int:
    total = 0
    for sent in units:
        db.session.commit()
        total += sent
    return total


def reminders(now: datetime | None = None) -> int:
    """24 h and 1 h before each scheduled session; returns how many e-mails were queued."""
    return _per_unit(follow_up.reminders(now or utcnow()))


def nudge_log(now: datetime | None = None) -> int:
    """After a session ends, ask the mentee to log notes (once per session)."""
    return _per_unit(follow_up.log_nudges(now or utcnow()))


def chase_invites(now: datetime | None = None) -> int:
    return _per_unit(follow_up.chase_invites(now or utcnow()))


def escalate(now: datetime | None = None) -> int:
    return _per_unit(follow_up.escalate(now or utcnow()))


def mark_missed(now: datetime | None = None) -> int:
    missed = follow_up.mark_missed(now or utcnow())
    db.session.commit()
    return missed


def weekly_digest(now: datetime | None = None) -> int:
    """Once a week (configured weekday/hour) to each coordinator."""
    return _per_unit(follow_up.weekly_digests(now or utcnow()))
