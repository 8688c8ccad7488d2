"""Approved mentor-mentee pairs, their development plan and recorded level changes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ColumnElement, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, utcnow
from .competency import Competency
from .person import Person
from .programme import Programme


class PairStatus(StrEnum):
    """A pair's life: invited -> active -> completed, or declined (invite refused) or ended
    (stopped early by a coordinator)."""

    INVITED = "invited"
    ACTIVE = "active"
    DECLINED = "declined"
    ENDED = "ended"
    COMPLETED = "completed"


class GoalStatus(StrEnum):
    OPEN = "open"
    ACHIEVED = "achieved"
    DROPPED = "dropped"


PAIR_STATES = tuple(PairStatus)
#: a pair still running or waiting for its mentor's answer (one per mentee and programme)
LIVE_PAIR_STATES: tuple[PairStatus, ...] = (PairStatus.INVITED, PairStatus.ACTIVE)
#: live, or finished after it ran (shown on homes, counted as matched history)
RAN_PAIR_STATES: tuple[PairStatus, ...] = (
    PairStatus.INVITED, PairStatus.ACTIVE, PairStatus.COMPLETED, PairStatus.ENDED)
GOAL_STATES = tuple(GoalStatus)


class Pair(Timestamped, Base):
    __tablename__ = "pair"
    __table_args__ = (
        # At most one live pair per mentee and programme: a double-click publish cannot duplicate.
        Index(
            "uq_pair_live_mentee",
            "programme_id",
            "mentee_id",
            unique=True,
            sqlite_where=text("status IN ('invited','active')"),
            postgresql_where=text("status IN ('invited','active')"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int | None] = mapped_column(ForeignKey("matching_round.id"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=PairStatus.INVITED)
    focus: Mapped[list[str]] = mapped_column(JSON, default=list)  # competency codes
    mode: Mapped[str | None] = mapped_column(String(10))  # online | in_person (solver's choice)
    weekly_slot_utc: Mapped[int | None]  # UTC minute of the week (Mon 00:00 = 0) of the session
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(1000))
    # Coordinators read a log's free-text notes only where the mentee ticked that log's
    # `notes_visible_to_coordinator`: one mechanism, per log (no pair-wide switch).

    programme: Mapped[Programme] = relationship()
    mentor: Mapped[Person] = relationship(foreign_keys=[mentor_id])
    mentee: Mapped[Person] = relationship(foreign_keys=[mentee_id])
    goals: Mapped[list[Goal]] = relationship(cascade="all, delete-orphan", order_by="Goal.id")

    LIVE_STATES = LIVE_PAIR_STATES

    @classmethod
    def live(cls) -> ColumnElement[bool]:
        """SQL condition: the pair is live (invited or active)."""
        return cls.status.in_(LIVE_PAIR_STATES)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_PAIR_STATES

    def member_role(self, person_id: int | None) -> str | None:
        if person_id == self.mentor_id:
            return "mentor"
        if person_id == self.mentee_id:
            return "mentee"
        return None


class Goal(Base):
    """A development-plan goal of a pair: reach `target_level` in a competency by a date."""

    __tablename__ = "goal"
    __table_args__ = (CheckConstraint("target_level BETWEEN 1 AND 5", name="target_level"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"))
    description: Mapped[str] = mapped_column(String(1000))
    target_level: Mapped[int]
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(10), default=GoalStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    competency: Mapped[Competency] = relationship(lazy="joined")


class LevelChange(Base):
    """A recorded change of a person's competency level, with who recorded it and why."""

    __tablename__ = "level_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"))
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("pair.id"))
    old_level: Mapped[int]
    new_level: Mapped[int]
    note: Mapped[str | None] = mapped_column(String(1000))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    competency: Mapped[Competency] = relationship(lazy="joined")
