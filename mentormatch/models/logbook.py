"""Session logs written by mentees, their competencies and action items, feedback, evaluations."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, utcnow
from .competency import Competency


class LogStatus(StrEnum):
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


LOG_STATES = tuple(LogStatus)


class SessionLog(Timestamped, Base):
    __tablename__ = "session_log"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 1 AND 600", name="duration"),
        UniqueConstraint("session_id"),
        # The log form's idempotency token: a double click or a retry finds the first log.
        UniqueConstraint("pair_id", "submit_token"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("session.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    held_on: Mapped[date]
    duration_minutes: Mapped[int]
    topics: Mapped[str] = mapped_column(String(1000))
    notes: Mapped[str | None] = mapped_column(Text)
    notes_visible_to_coordinator: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default=LogStatus.SUBMITTED)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    confirmed_at: Mapped[datetime | None]
    dispute_comment: Mapped[str | None] = mapped_column(String(1000))
    credited_minutes: Mapped[int] = mapped_column(default=0)  # minutes credited toward JP
    submit_token: Mapped[str | None] = mapped_column(String(64))

    competencies: Mapped[list[LogCompetency]] = relationship(cascade="all, delete-orphan")
    action_items: Mapped[list[ActionItem]] = relationship(
        cascade="all, delete-orphan", order_by="ActionItem.id"
    )


class LogCompetency(Base):
    __tablename__ = "log_competency"
    __table_args__ = (UniqueConstraint("log_id", "competency_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("session_log.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"))

    competency: Mapped[Competency] = relationship(lazy="joined")


class ActionItem(Base):
    __tablename__ = "action_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("session_log.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(500))
    due_date: Mapped[date | None]
    done: Mapped[bool] = mapped_column(default=False)


class Feedback(Base):
    """A 1-5 rating with a comment after a logged session, one per side."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("log_id", "author_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("session_log.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    rating: Mapped[int]
    comment: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Evaluation(Base):
    """Mid-point or end-of-programme evaluation of a pair by one of its members."""

    __tablename__ = "evaluation"
    __table_args__ = (UniqueConstraint("pair_id", "author_id", "stage"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    stage: Mapped[str] = mapped_column(String(5))  # mid | end
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
