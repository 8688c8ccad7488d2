"""Outgoing mail (outbox), inbound calendar replies, audit log, scheduler leadership lease."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

#: pending -> claimed (a worker holds ``claim_token``) -> sending (handed to SMTP, committed
#: before DATA) -> sent. ``uncertain``: the worker died or the connection broke during DATA, so
#: delivery is unknown; never resent automatically (an admin decides). ``failed``: definitely
#: not delivered after ``max_attempts``.


class OutboxStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


OUTBOX_STATES = tuple(OutboxStatus)


class OutboxMessage(Base):
    """A fully rendered e-mail written in the same transaction as the change that caused it.

    `dedupe_key` makes "send at most once" a database fact (reminders, nudges, digests).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    #: fencing token of the current claim: every later state change repeats it in its WHERE
    claim_token: Mapped[str | None] = mapped_column(String(40))
    #: scheduler lease epoch the claim was made under (None outside the scheduler)
    claim_epoch: Mapped[int | None]
    handed_at: Mapped[datetime | None]  # committed 'sending' right before SMTP DATA
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))


class InboundMessage(Base):
    """Every calendar reply received (IMAP, upload, API, one-click link) and what became of it."""

    __tablename__ = "inbound_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(10))  # imap | upload | api | link | app | web
    digest: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the raw bytes
    sender: Mapped[str | None] = mapped_column(String(254))
    uid: Mapped[str | None] = mapped_column(String(255))
    # applied | partial | rejected | duplicate | counter | failed
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(500))  # English, for logs and admins
    reason_code: Mapped[str | None] = mapped_column(String(40))  # shown translated
    series_id: Mapped[int | None] = mapped_column(ForeignKey("session_series.id"))
    #: where the mail came from, e.g. "INBOX;UIDVALIDITY=7;UID=42" (RFC 5092 style)
    mailbox_ref: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class InboxCursor(Base):
    """How far the inbox job got in one IMAP folder: every UID up to ``last_uid`` (under
    ``uidvalidity``) was handled, whatever its \\Seen flag says (a coordinator may read the
    organizer mailbox in a mail client). Advanced in the same transaction as the effect."""

    __tablename__ = "inbox_cursor"
    name: Mapped[str] = mapped_column(String(300), primary_key=True)  # user@host:port/folder
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    #: a message whose processing raised: retried a few times, then recorded as failed
    failing_uid: Mapped[int | None] = mapped_column(BigInteger)
    failing_attempts: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    programme_id: Mapped[int | None] = mapped_column(index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SchedulerLease(Base):
    """Leadership among scheduler processes: the holder renews before `expires_at`.

    ``epoch`` is the fencing token: it grows on every change of leadership, and writes made
    on behalf of the leader (outbox claims) check it, so a stalled former leader cannot act.
    """

    __tablename__ = "scheduler_lease"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    epoch: Mapped[int] = mapped_column(default=1, server_default="1")
