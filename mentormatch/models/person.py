"""People: ASN (PNS/PPPK, identified by NIP) and external mentors, with availability and leave."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped
from .competency import PersonCompetency
from .org import Location, Unit

PERSON_KINDS = ("pns", "pppk", "external")
MODES = ("online", "in_person", "either")


class Person(Timestamped, Base):
    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("kind IN ('pns','pppk','external')", name="kind"),
        CheckConstraint("kind = 'external' OR nip IS NOT NULL", name="asn_has_nip"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="pns")
    nip: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    position: Mapped[str | None] = mapped_column(String(200))  # jabatan
    job_level: Mapped[str | None] = mapped_column(String(40))  # e.g. "Ahli Muda", "Pengawas"
    grade_rank: Mapped[int | None]  # 1 (I/a, PPPK I) .. 17 (IV/e, PPPK XVII)
    grade_label: Mapped[str | None] = mapped_column(String(10))  # as written: "III/a" or "IX"
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    organisation: Mapped[str | None] = mapped_column(String(200))  # external mentors
    expertise: Mapped[str | None] = mapped_column(String(500))  # external mentors
    mode: Mapped[str] = mapped_column(String(10), default="either")
    locale: Mapped[str] = mapped_column(String(5), default="id")
    # An override for people away from their office (e.g. studying abroad).
    timezone_override: Mapped[str | None] = mapped_column(String(64))
    is_priority: Mapped[bool] = mapped_column(default=False)  # new CPNS, remote posting, ...
    active: Mapped[bool] = mapped_column(default=True)
    # Secret for the personal calendar feed; rotating it revokes the old URL.
    feed_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    location: Mapped[Location | None] = relationship(lazy="joined")
    supervisor: Mapped[Person | None] = relationship(remote_side=[id])
    competencies: Mapped[list[PersonCompetency]] = relationship(
        cascade="all, delete-orphan", order_by="PersonCompetency.competency_id"
    )
    availability: Mapped[list[AvailabilityWindow]] = relationship(
        cascade="all, delete-orphan",
        order_by="(AvailabilityWindow.weekday, AvailabilityWindow.start_minute)",
    )
    leaves: Mapped[list[LeaveDate]] = relationship(cascade="all, delete-orphan")

    @property
    def timezone(self) -> str:
        if self.timezone_override:
            return self.timezone_override
        return self.location.timezone if self.location else "Asia/Jakarta"

    @property
    def city(self) -> str | None:
        return self.location.city if self.location else None


class AvailabilityWindow(Base):
    """A weekly free window in the person's local time (weekday 0 = Monday)."""

    __tablename__ = "availability_window"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440", name="minutes"),
        CheckConstraint("start_minute < end_minute", name="order"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    start_minute: Mapped[int]
    end_minute: Mapped[int]


class LeaveDate(Base):
    """Leave (cuti) or travel: no session is placed in it."""

    __tablename__ = "leave_date"
    __table_args__ = (UniqueConstraint("person_id", "start_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date]
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime | None]
