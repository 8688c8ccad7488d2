"""The job bodies. Each polls database state ("due and not yet done"), so a repeated or missed
run does no harm; mail goes through the outbox with a dedupe key; each commits per unit. The
follow-up rules (reminders, chasing, escalation, missed sessions, digests) are services
(services/reminders.py): the jobs here only run them and commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import current_app

from ..extensions import db
from ..mail.inbox import ImapInbox, ImapSettings, InboxError
from ..models import InboxCursor, utcnow
from ..services import reminders as follow_up
from ..services.dispatch import dispatch_outbox, make_transport
from ..services.lease import Fence, LeaseLost
from ..services.replies import apply_reply, record_failure
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
                cursor = db.session.get_one(InboxCursor, name)
                cursor.last_uid, cursor.failing_uid, cursor.failing_attempts = mail.uid, None, 0
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - recorded, retried a bounded number of times
                db.session.rollback()
                log.exception("inbox message %s could not be processed", ref)
                cursor = db.session.get_one(InboxCursor, name)
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
