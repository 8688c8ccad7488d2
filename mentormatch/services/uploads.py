"""Uploads kept between a preview and its confirmation, in the database (any worker may serve
the confirm request). A token is claimed by one DELETE ... RETURNING, so a double submit or two
racing requests cannot both get the file."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from ..extensions import db
from ..models import StagedUpload, User, utcnow

TTL = timedelta(hours=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def stage(user: User, purpose: str, filename: str, data: bytes) -> str:
    """Keep `data` for `user`; return the token the confirm form carries."""
    db.session.execute(delete(StagedUpload).where(StagedUpload.created_at < utcnow() - TTL))
    token = secrets.token_urlsafe(24)
    db.session.add(StagedUpload(token_hash=_hash(token), user_id=user.id, purpose=purpose,
                                filename=filename[:255], data=data))
    db.session.flush()
    return token


def take(user: User, purpose: str, token: str) -> tuple[bytes, str] | None:
    """Claim the upload once: None when unknown, expired, someone else's or already taken."""
    if not token or len(token) > 100:
        return None
    row = db.session.execute(
        delete(StagedUpload)
        .where(StagedUpload.token_hash == _hash(token), StagedUpload.user_id == user.id,
               StagedUpload.purpose == purpose, StagedUpload.created_at >= utcnow() - TTL)
        .returning(StagedUpload.data, StagedUpload.filename)
    ).first()
    return (bytes(row.data), row.filename) if row else None


def read(user: User, purpose: str, token: str) -> tuple[bytes, str] | None:
    """The staged data without claiming it (e.g. a download offered on a page)."""
    if not token or len(token) > 100:
        return None
    row = db.session.execute(
        select(StagedUpload.data, StagedUpload.filename)
        .where(StagedUpload.token_hash == _hash(token), StagedUpload.user_id == user.id,
               StagedUpload.purpose == purpose, StagedUpload.created_at >= utcnow() - TTL)
    ).first()
    return (bytes(row.data), row.filename) if row else None
