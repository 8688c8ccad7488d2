"""Dated working-hours overrides an admin adds (Ramadan hours, set each year by circular)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class WorkingHoursOverride(Base):
    """Working hours for the local dates [start_date, end_date]: Mon–Thu and Friday spans with
    their breaks ("HH:MM" text; no break = NULL)."""

    __tablename__ = "working_hours_override"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date]
    end_date: Mapped[date]
    mon_thu_start: Mapped[str] = mapped_column(String(5))
    mon_thu_end: Mapped[str] = mapped_column(String(5))
    mon_thu_break_start: Mapped[str | None] = mapped_column(String(5))
    mon_thu_break_end: Mapped[str | None] = mapped_column(String(5))
    fri_start: Mapped[str] = mapped_column(String(5))
    fri_end: Mapped[str] = mapped_column(String(5))
    fri_break_start: Mapped[str | None] = mapped_column(String(5))
    fri_break_end: Mapped[str | None] = mapped_column(String(5))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def as_config(self) -> dict[str, Any]:
        """The same shape as a `[[working_hours.overrides]]` block."""
        return {
            "name": self.name, "from": self.start_date, "to": self.end_date,
            "mon_thu": [self.mon_thu_start, self.mon_thu_end],
            "mon_thu_break": [self.mon_thu_break_start, self.mon_thu_break_end]
            if self.mon_thu_break_start and self.mon_thu_break_end else None,
            "fri": [self.fri_start, self.fri_end],
            "friday_break": [self.fri_break_start, self.fri_break_end]
            if self.fri_break_start and self.fri_break_end else None,
        }
