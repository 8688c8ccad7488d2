"""The competency catalogue, seeded and kept in step with config/competencies.toml."""

from __future__ import annotations

from sqlalchemy import select

from ..config import load_competency_catalogue
from ..extensions import db
from ..models import Competency
from ..models.competency import KINDS


def sync_competencies() -> int:
    """Insert new catalogue entries and update names/weights of existing ones; returns changes."""
    existing = {c.code: c for c in db.session.scalars(select(Competency))}
    changed = 0
    for entry in load_competency_catalogue():
        if entry["kind"] not in KINDS:
            raise ValueError(f"competencies.toml: unknown kind {entry['kind']!r}")
        row = existing.get(entry["code"])
        if row is None:
            row = Competency(code=entry["code"])
            db.session.add(row)
            changed += 1
        for field in ("kind", "name_id", "name_en"):
            setattr(row, field, entry[field])
        row.weight = float(entry.get("weight", 1.0))
        row.active = bool(entry.get("active", True))
    db.session.flush()
    return changed


def all_competencies(active_only: bool = True) -> list[Competency]:
    query = select(Competency).order_by(Competency.kind, Competency.id)
    if active_only:
        query = query.where(Competency.active.is_(True))
    return list(db.session.scalars(query))


def by_code() -> dict[str, Competency]:
    return {c.code: c for c in db.session.scalars(select(Competency))}
