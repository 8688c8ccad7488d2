"""Competency catalogue (Permenpan RB 38/2017) and each person's levels."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base

KINDS = ("manajerial", "sosial_kultural", "teknis")


class Competency(Base):
    __tablename__ = "competency"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name_id: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    weight: Mapped[float] = mapped_column(default=1.0)
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_id


class PersonCompetency(Base):
    """Current level; for mentees also the required level (gap = required - current)."""

    __tablename__ = "person_competency"
    __table_args__ = (
        UniqueConstraint("person_id", "competency_id"),
        CheckConstraint("current_level BETWEEN 1 AND 5", name="current_level_range"),
        CheckConstraint(
            "required_level IS NULL OR required_level BETWEEN 1 AND 5", name="required_level_range"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"))
    current_level: Mapped[int]
    required_level: Mapped[int | None]
    # Level when the person first entered a programme: the "before" of progress charts.
    baseline_level: Mapped[int | None]

    competency: Mapped[Competency] = relationship(lazy="joined")

    @property
    def gap(self) -> int:
        return max(0, (self.required_level or 0) - self.current_level)
