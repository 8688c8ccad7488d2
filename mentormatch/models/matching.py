"""Matching rounds: their settings, solver runs, proposals and coordinator constraints."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped
from .programme import Programme


class RoundStatus(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    SOLVING = "solving"
    SOLVED = "solved"
    #: solved, then changed (forbid, filters, criteria, participants...): re-solve to approve
    STALE = "stale"
    FAILED = "failed"
    APPROVED = "approved"


ROUND_STATES = tuple(RoundStatus)
#: a solve is waiting or running: the round cannot be changed meanwhile
BUSY_ROUND_STATES: tuple[RoundStatus, ...] = (RoundStatus.QUEUED, RoundStatus.SOLVING)


class Round(Timestamped, Base):
    __tablename__ = "matching_round"
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="initial")  # initial | rematch
    status: Mapped[str] = mapped_column(String(10), default=RoundStatus.DRAFT)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Live progress of the current solve: phase, elapsed, best objective, matched.
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(2000))  # a code: worker_stopped, ...
    queued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(100))  # claim token of the running solve
    # The running solve writes this every few seconds; a stale one means the worker died.
    heartbeat_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None]

    programme: Mapped[Programme] = relationship()
    proposals: Mapped[list[Proposal]] = relationship(
        cascade="all, delete-orphan", order_by="Proposal.id"
    )
    constraints: Mapped[list[RoundConstraint]] = relationship(cascade="all, delete-orphan")
    unmatched: Mapped[list[UnmatchedMentee]] = relationship(cascade="all, delete-orphan")


class RoundConstraint(Base):
    """A coordinator's lock (must pair), forbid, or hand-set pair for a round."""

    __tablename__ = "round_constraint"
    __table_args__ = (UniqueConstraint("round_id", "mentee_id", "mentor_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("matching_round.id", ondelete="CASCADE"), index=True
    )
    mentee_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(10))  # lock | forbid
    override_reason: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime | None]


class Proposal(Base):
    """One proposed pair of a solved round, with its weekly slot and its reason."""

    __tablename__ = "proposal"
    __table_args__ = (UniqueConstraint("round_id", "mentee_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("matching_round.id", ondelete="CASCADE"), index=True
    )
    mentee_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    weekday_utc: Mapped[int]
    start_minute_utc: Mapped[int]
    score: Mapped[float]
    mode: Mapped[str] = mapped_column(String(10), default="online")  # online | in_person
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # why this pair, as the solver's codes with parameters (scoring.reason_codes; a hand-set
    # pair starts with {"code": "manual", "note": <the coordinator's reason>}): pages word them
    # in the reader's language when shown (services/reason_words.py), nothing is stored as prose
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    manual: Mapped[bool] = mapped_column(default=False)


class UnmatchedMentee(Base):
    __tablename__ = "unmatched_mentee"
    __table_args__ = (UniqueConstraint("round_id", "mentee_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("matching_round.id", ondelete="CASCADE"), index=True
    )
    mentee_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    reason: Mapped[str] = mapped_column(String(30))  # no_eligible_mentor | capacity_taken | ...
    # the solver's figures for the reason (solver.Unmatched.params: eligible, with_room, ...)
    params: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
