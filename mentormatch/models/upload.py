"""Uploaded files waiting for confirmation (the staff-import preview), kept in the database so a
confirm request may land on any web worker or machine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class StagedUpload(Base):
    __tablename__ = "staged_upload"
    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the token handed to the browser: a database leak reveals no usable token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))  # staff_import
    filename: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
