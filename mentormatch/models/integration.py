"""Integrations: REST API clients (HR systems) and their call log; single sign-on identities
and the admin's mapping of identity-provider groups to roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

#: What an API client may be allowed to do; each endpoint names the one scope it needs.
API_SCOPES = ("people:write", "people:read", "programmes:read", "reports:read")


class ApiClient(Base):
    """An HR system allowed to call /api/v1. The secret is shown once; only its hash is kept."""

    __tablename__ = "api_client"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(32), unique=True)  # public part of the token
    secret_hash: Mapped[str] = mapped_column(String(128))  # sha256 hex of the random secret
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiCall(Base):
    """One audited API call: who, what, the answer (never the request body)."""

    __tablename__ = "api_call"
    __table_args__ = (Index("ix_api_call_client_at", "client_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int]
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    records: Mapped[int | None]  # rows sent (upsert) or returned (reads)


class SsoIdentity(Base):
    """The provider account (issuer + subject) linked to a local account at first login."""

    __tablename__ = "sso_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    linked_by: Mapped[str] = mapped_column(String(10))  # nip | email
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class SsoGroupRole(Base):
    """An admin's rule: members of this provider group get this role. Nothing else grants one."""

    __tablename__ = "sso_group_role"
    __table_args__ = (UniqueConstraint("group_name", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
