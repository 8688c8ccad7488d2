"""Where reading the reply mailbox stands, and what a message that cannot be processed does.

The cursor (UIDVALIDITY + last UID per folder) moves with each message's effect in one
transaction, so a crash never applies a reply twice nor skips one. A message whose processing
fails is tried again on the next polls (``inbox.max_attempts``) and then recorded as
``failed`` with its reason, so one bad mail cannot block the mailbox forever. The job
(``jobs/tasks.poll_inbox``) opens the mailbox and commits after each step; the decisions are
here. Functions flush, never commit."""

from __future__ import annotations

import logging

from ..extensions import db
from ..mail.inbox import ImapInbox, InboundMail
from ..models import InboxCursor
from .replies import apply_reply, record_failure

log = logging.getLogger(__name__)


def open_cursor(inbox: ImapInbox) -> InboxCursor:
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
    db.session.flush()
    return cursor


def apply_message(name: str, mail: InboundMail, ref: str) -> None:
    """Apply one REPLY mail and move the cursor past it (the caller commits both at once)."""
    apply_reply(mail.raw_bytes, source="imap", mailbox_ref=ref)
    cursor = db.session.get_one(InboxCursor, name)
    cursor.last_uid, cursor.failing_uid, cursor.failing_attempts = mail.uid, None, 0
    db.session.flush()


def message_failed(name: str, mail: InboundMail, ref: str, exc: BaseException,
                   max_attempts: int) -> bool:
    """After a failed (rolled-back) ``apply_message``: count the attempt. True: try this
    message again on the next poll (stop here, keep the order); False: it was recorded as
    failed and the cursor moved past it."""
    cursor = db.session.get_one(InboxCursor, name)
    attempts = cursor.failing_attempts + 1 if cursor.failing_uid == mail.uid else 1
    if attempts < max_attempts:
        cursor.failing_uid, cursor.failing_attempts = mail.uid, attempts
        db.session.flush()
        return True
    record_failure(mail.raw_bytes, source="imap", mailbox_ref=ref,
                   reason=f"{type(exc).__name__}: {exc}", attempts=attempts)
    cursor.last_uid, cursor.failing_uid, cursor.failing_attempts = mail.uid, None, 0
    db.session.flush()
    return False
