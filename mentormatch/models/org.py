"""Organisational units and work locations."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class Unit(Base):
    """A unit kerja (dinas, kecamatan office, BKPSDM, ...)."""

    __tablename__ = "unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))

    parent: Mapped[Unit | None] = relationship(remote_side=[id])


class Location(Base):
    """A work location; its IANA zone decides every local time shown to the people there."""

    __tablename__ = "location"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    city: Mapped[str] = mapped_column(String(100), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
