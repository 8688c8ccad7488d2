"""Outgoing mail (outbox), inbound calendar replies, audit log, scheduler leadership lease."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

OUTBOX_STATES = ("pending", "sending", "sent", "failed")


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
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))


class InboundMessage(Base):
    """Every calendar reply received (IMAP, upload, API, one-click link) and what became of it."""

    __tablename__ = "inbound_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(10))  # imap | upload | api | link | app
    digest: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the raw bytes
    sender: Mapped[str | None] = mapped_column(String(254))
    uid: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(10))  # applied | rejected | duplicate
    reason: Mapped[str | None] = mapped_column(String(500))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("session_series.id"))


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
    """Leadership among scheduler processes: the holder renews before `expires_at`."""

    __tablename__ = "scheduler_lease"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
