"""Audit trail: who did what to which object, and when."""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import Actor, AuditLog


def record(
    actor: Actor,
    action: str,
    obj: Any = None,
    *,
    programme_id: int | None = None,
    **details: Any,
) -> AuditLog:
    row = AuditLog(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "-",
        object_id=getattr(obj, "id", None),
        programme_id=programme_id,
        details=details,
    )
    db.session.add(row)
    return row
