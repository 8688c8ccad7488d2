"""Programmes: create/edit (the creator coordinates it), participants chosen by filters,
mentee preferences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import Select, exists, func, select

from ..extensions import db
from ..models import (
    Competency,
    Location,
    MentorPreference,
    Pair,
    Participant,
    Person,
    PersonCompetency,
    Programme,
    ProgrammeCoordinator,
)
from . import audit

MODE_POLICIES = ("online", "in_person", "either")
FIELDS = ("name", "unit_id", "start_date", "end_date", "session_minutes", "interval_weeks",
          "session_count", "mode_policy", "default_capacity", "preferences_enabled")


class ProgrammeError(ValueError):
    """A user-caused problem, with a message safe to show."""


def defaults() -> dict[str, Any]:
    return dict(current_app.config["MM"].get("programme", {}))


def _check(values: dict[str, Any]) -> None:
    if not (values.get("name") or "").strip():
        raise ProgrammeError("A programme needs a name.")
    if values["end_date"] < values["start_date"]:
        raise ProgrammeError("The period ends before it starts.")
    if values.get("mode_policy") not in MODE_POLICIES:
        raise ProgrammeError("Unknown mode policy.")
    for key, lo, hi in (("session_minutes", 15, 480), ("interval_weeks", 1, 8),
                        ("session_count", 1, 52), ("default_capacity", 1, 20)):
        if not lo <= int(values[key]) <= hi:
            raise ProgrammeError(f"{key} must be between {lo} and {hi}.")


def create(actor: Any, **values: Any) -> Programme:
    d = defaults()
    values = {
        "session_minutes": d.get("session_minutes", 60),
        "interval_weeks": d.get("interval_weeks", 2),
        "session_count": d.get("session_count", 6),
        "default_capacity": d.get("default_capacity", 3),
        "mode_policy": d.get("mode_policy", "either"),
        "preferences_enabled": False,
        **values,
    }
    _check(values)
    prog = Programme(**{k: values.get(k) for k in FIELDS},
                     jp_rule=dict(current_app.config["MM"].get("jp", {})))
    prog.name = prog.name.strip()
    db.session.add(prog)
    db.session.flush()
    db.session.add(ProgrammeCoordinator(programme_id=prog.id, user_id=actor.id))
    audit.record(actor, "programme.create", prog, programme_id=prog.id, name=prog.name)
    db.session.flush()
    return prog


def update(prog: Programme, actor: Any, **values: Any) -> Programme:
    merged = {k: getattr(prog, k) for k in FIELDS} | values
    _check(merged)
    for k in FIELDS:
        setattr(prog, k, merged[k])
    audit.record(actor, "programme.update", prog, programme_id=prog.id,
                 fields=sorted(values))
    db.session.flush()
    return prog


def for_user(user: Any) -> list[Programme]:
    q = select(Programme).order_by(Programme.start_date.desc(), Programme.id.desc())
    if not user.has_role("admin"):
        q = q.join(ProgrammeCoordinator).where(ProgrammeCoordinator.user_id == user.id)
    return list(db.session.scalars(q).unique())


@dataclass
class Filters:
    unit_id: int | None = None
    city: str = ""
    grade_min: int | None = None
    grade_max: int | None = None
    gap_in: str = ""  # competency code
    not_matched: bool = False

    @classmethod
    def from_dict(cls, d: dict | None) -> Filters:
        d = d or {}

        def num(k: str) -> int | None:
            v = d.get(k)
            return int(v) if v not in (None, "") and str(v).isdigit() else None

        return cls(unit_id=num("unit_id"), city=str(d.get("city") or "")[:100],
                   grade_min=num("grade_min"), grade_max=num("grade_max"),
                   gap_in=str(d.get("gap_in") or "")[:20],
                   not_matched=str(d.get("not_matched", "")).lower() in ("1", "true", "on", "y"))

    def to_dict(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "city": self.city, "grade_min": self.grade_min,
                "grade_max": self.grade_max, "gap_in": self.gap_in,
                "not_matched": self.not_matched}


def apply_filters(q: Select, f: Filters, programme_id: int) -> Select:
    if f.unit_id:
        q = q.where(Person.unit_id == f.unit_id)
    if f.city:
        q = q.where(Person.location_id.in_(select(Location.id).where(Location.city == f.city)))
    if f.grade_min:
        q = q.where(Person.grade_rank >= f.grade_min)
    if f.grade_max:
        q = q.where(Person.grade_rank <= f.grade_max)
    if f.gap_in:
        q = q.where(exists().where(
            PersonCompetency.person_id == Person.id,
            PersonCompetency.competency_id == Competency.id,
            Competency.code == f.gap_in,
            PersonCompetency.required_level > PersonCompetency.current_level))
    if f.not_matched:
        q = q.where(~exists().where(Pair.mentee_id == Person.id,
                                    Pair.programme_id == programme_id,
                                    Pair.status.in_(("invited", "active"))))
    return q


def candidates(prog: Programme, role: str, f: Filters) -> Select:
    """Active people matching the filters who are not yet participants in that role."""
    q = select(Person).where(Person.active.is_(True), ~exists().where(
        Participant.programme_id == prog.id, Participant.person_id == Person.id,
        Participant.role == role))
    return apply_filters(q, f, prog.id)


def count_candidates(prog: Programme, role: str, f: Filters) -> int:
    q = candidates(prog, role, f)
    return db.session.scalar(select(func.count()).select_from(q.subquery())) or 0


def add_participants(prog: Programme, role: str, f: Filters, actor: Any) -> int:
    if role not in ("mentor", "mentee"):
        raise ProgrammeError("Role must be mentor or mentee.")
    people = list(db.session.scalars(candidates(prog, role, f)).unique())
    for p in people:
        db.session.add(Participant(programme_id=prog.id, person_id=p.id, role=role,
                                   is_priority=p.is_priority))
    audit.record(actor, "programme.participants_add", prog, programme_id=prog.id, role=role,
                 count=len(people), filters=f.to_dict())
    db.session.flush()
    return len(people)


def participants(prog: Programme, role: str) -> list[Participant]:
    return list(db.session.scalars(
        select(Participant).join(Person, Participant.person_id == Person.id)
        .where(Participant.programme_id == prog.id, Participant.role == role,
               Participant.active.is_(True)).order_by(Person.name)).unique())


def set_preferences(prog: Programme, mentee_id: int, mentor_ids: list[int], actor: Any) -> None:
    """A mentee ranks up to 3 of the programme's mentors (1 = first)."""
    if not prog.preferences_enabled:
        raise ProgrammeError("Preferences are off for this programme.")
    mentor_ids = list(dict.fromkeys(m for m in mentor_ids if m))[:3]
    allowed = {p.person_id for p in participants(prog, "mentor")}
    if any(m not in allowed for m in mentor_ids):
        raise ProgrammeError("Choose mentors of this programme.")
    for row in db.session.scalars(select(MentorPreference).where(
            MentorPreference.programme_id == prog.id, MentorPreference.mentee_id == mentee_id)):
        db.session.delete(row)
    db.session.flush()
    for rank, mid in enumerate(mentor_ids, 1):
        db.session.add(MentorPreference(programme_id=prog.id, mentee_id=mentee_id,
                                        mentor_id=mid, rank=rank))
    audit.record(actor, "programme.preferences", prog, programme_id=prog.id,
                 mentee_id=mentee_id, mentors=mentor_ids)
    db.session.flush()


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ProgrammeError("Dates must look like 2026-01-31.") from exc
