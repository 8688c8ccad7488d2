"""Session series (one iTIP UID each), their attendees' answers, and the sessions themselves."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, utcnow
from .pair import Pair
from .person import Person

PARTSTATS = ("NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED")


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    NOT_HELD = "not_held"
    MISSED = "missed"
    CANCELLED = "cancelled"


class SeriesStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


SESSION_STATES = tuple(SessionStatus)


class SessionSeries(Timestamped, Base):
    __tablename__ = "session_series"
    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    # The series is written in the organiser-side zone; clients convert for each attendee.
    tzid: Mapped[str] = mapped_column(String(64))
    first_start: Mapped[datetime]  # UTC instant of the first occurrence (DTSTART)
    duration_minutes: Mapped[int]
    interval_weeks: Mapped[int]
    count: Mapped[int]  # sessions wanted (RRULE COUNT also covers skipped holidays)
    location: Mapped[str | None] = mapped_column(String(500))
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default=SeriesStatus.ACTIVE)
    #: when the current series SEQUENCE was issued: a REPLY without SEQUENCE is ordered by
    #: its DTSTAMP against this (RFC 5546 2.1.5)
    sequence_changed_at: Mapped[datetime | None]

    pair: Mapped[Pair] = relationship()
    attendees: Mapped[list[Attendee]] = relationship(
        cascade="all, delete-orphan", order_by="Attendee.id"
    )
    sessions: Mapped[list[Session]] = relationship(
        cascade="all, delete-orphan", order_by="Session.start_at"
    )


class Attendee(Base):
    """An invitee of a series and their answer (PARTSTAT) as of the SEQUENCE they answered."""

    __tablename__ = "attendee"
    __table_args__ = (UniqueConstraint("series_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("session_series.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))  # mentor | mentee
    partstat: Mapped[str] = mapped_column(String(15), default="NEEDS-ACTION")
    answered_sequence: Mapped[int | None]
    answered_at: Mapped[datetime | None]  # DTSTAMP of the applied reply
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    chased_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(lazy="joined")


class OccurrenceResponse(Base):
    """An attendee's answer for one occurrence (a REPLY carrying RECURRENCE-ID)."""

    __tablename__ = "occurrence_response"
    __table_args__ = (UniqueConstraint("attendee_id", "recurrence_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"))
    recurrence_id: Mapped[datetime]
    partstat: Mapped[str] = mapped_column(String(15))
    answered_sequence: Mapped[int]
    answered_at: Mapped[datetime]


class Session(Base):
    """One occurrence. `recurrence_id` is its original start: the key iTIP uses for overrides."""

    __tablename__ = "session"
    __table_args__ = (UniqueConstraint("series_id", "recurrence_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("session_series.id", ondelete="CASCADE"), index=True
    )
    recurrence_id: Mapped[datetime]
    start_at: Mapped[datetime] = mapped_column(index=True)
    end_at: Mapped[datetime]
    sequence: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default=SessionStatus.SCHEDULED, index=True)
    proposed_start: Mapped[datetime | None]  # a new time the mentor proposed, awaiting the mentee
    sequence_changed_at: Mapped[datetime | None]  # when this occurrence's SEQUENCE was raised
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    series: Mapped[SessionSeries] = relationship(back_populates="sessions")
