"""Programmes, their coordinators and participants, and mentee preferences."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped
from .org import Unit
from .person import Person


class ProgrammeStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"
    ARCHIVED = "archived"


class Programme(Timestamped, Base):
    __tablename__ = "programme"
    __table_args__ = (
        CheckConstraint("session_minutes BETWEEN 15 AND 480", name="session_minutes"),
        CheckConstraint("interval_weeks BETWEEN 1 AND 8", name="interval_weeks"),
        CheckConstraint("session_count BETWEEN 1 AND 52", name="session_count"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    start_date: Mapped[date]
    end_date: Mapped[date]
    session_minutes: Mapped[int] = mapped_column(default=60)
    interval_weeks: Mapped[int] = mapped_column(default=2)
    session_count: Mapped[int] = mapped_column(default=6)
    mode_policy: Mapped[str] = mapped_column(String(10), default="either")
    default_capacity: Mapped[int] = mapped_column(default=3)
    preferences_enabled: Mapped[bool] = mapped_column(default=False)
    # JP credit rule: minutes per JP, rounding, per-session cap (see config [jp]).
    jp_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Which hard rules a hand-set pair may break (with a reason) and whether it may exceed a
    # mentor's capacity; None = config [rounds].
    override_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Logs dated on a weekend or holiday: "refuse", "confirm" (the mentor must confirm that day
    # explicitly) or "allow"; None = config [logbook] off_day_logs.
    off_day_logs: Mapped[str | None] = mapped_column(String(10))
    mailbox: Mapped[str | None] = mapped_column(String(254))  # iTIP ORGANIZER
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default=ProgrammeStatus.ACTIVE)

    unit: Mapped[Unit | None] = relationship()
    coordinators: Mapped[list[ProgrammeCoordinator]] = relationship(
        cascade="all, delete-orphan"
    )


class ProgrammeCoordinator(Base):
    __tablename__ = "programme_coordinator"
    __table_args__ = (UniqueConstraint("programme_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))


class Participant(Base):
    """A person's role in one programme: one person may mentor here and be mentored elsewhere."""

    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("programme_id", "person_id", "role"),
        CheckConstraint("role IN ('mentor','mentee')", name="role"),
        CheckConstraint("capacity IS NULL OR capacity BETWEEN 1 AND 20", name="capacity"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    capacity: Mapped[int | None]  # mentors; None = programme default
    max_sessions_per_day: Mapped[int | None]
    is_priority: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    person: Mapped[Person] = relationship(lazy="joined")


class MentorPreference(Base):
    """A mentee's ranked wish (1 = first) for a suggested mentor in a programme."""

    __tablename__ = "mentor_preference"
    __table_args__ = (
        UniqueConstraint("programme_id", "mentee_id", "rank"),
        UniqueConstraint("programme_id", "mentee_id", "mentor_id"),
        CheckConstraint("rank BETWEEN 1 AND 3", name="rank"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    rank: Mapped[int]
