"""Login accounts and their global roles. Programme roles live on Programme/Participant."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped
from .person import Person

ROLES = ("admin", "coordinator", "mentor", "mentee")


class User(UserMixin, Timestamped, Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))  # None until activated
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    activated_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(String(5))
    # Per-account throttling (shared by every web worker and machine, unlike an in-memory
    # limiter): consecutive failed logins and, after too many, a lock until this instant.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Stored in the session at login and compared on every request: raising it (logout,
    # password change or reset, deactivation, role removal) ends every earlier session of the
    # account on every worker.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    person: Mapped[Person | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    def get_id(self) -> str:  # Flask-Login: what the session cookie names
        return f"{self.id}:{self.session_generation}"

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive or unactivated accounts cannot log in
        return self.active and self.password_hash is not None


class UserRole(Base):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))


#: Who does something in a service: the signed-in user, or None for the system (a job, a mailed
#: reply). Services take ``actor: Actor``.
Actor: TypeAlias = "User | None"
