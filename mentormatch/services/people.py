"""Finding people and describing their competency profile and weekly availability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, or_, select

from ..extensions import db
from ..models import (
    Competency,
    Location,
    Participant,
    Person,
    PersonCompetency,
    Unit,
    User,
    UserRole,
)
from .grades import grade_label

PAGE_SIZE = 50


@dataclass
class PeopleFilter:
    q: str = ""
    unit_id: int | None = None
    city: str = ""
    grade_min: int | None = None
    grade_max: int | None = None
    role: str = ""  # mentor | mentee | coordinator | external
    gap_in: str = ""  # competency code
    page: int = 1


def escape_like(text: str) -> str:
    """A search for "50%" or "a_b" means those characters, not LIKE wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(f: PeopleFilter) -> tuple[list[Person], int]:
    query: Select[Person] = select(Person).where(Person.active.is_(True))
    if f.q:
        like = "%" + escape_like(f.q.strip().lower()) + "%"
        query = query.where(
            or_(
                func.lower(Person.name).like(like, escape="\\"),
                Person.nip.like(like, escape="\\"),
                func.lower(Person.email).like(like, escape="\\"),
                func.lower(Person.position).like(like, escape="\\"),
            )
        )
    if f.unit_id:
        query = query.where(Person.unit_id == f.unit_id)
    if f.city:
        query = query.join(Location, Person.location_id == Location.id).where(
            Location.city == f.city
        )
    if f.grade_min:
        query = query.where(Person.grade_rank >= f.grade_min)
    if f.grade_max:
        query = query.where(Person.grade_rank <= f.grade_max)
    if f.role in ("mentor", "mentee"):
        query = query.where(
            or_(
                exists().where(Participant.person_id == Person.id, Participant.role == f.role),
                exists().where(
                    User.person_id == Person.id,
                    UserRole.user_id == User.id,
                    UserRole.role == f.role,
                ),
            )
        )
    elif f.role == "external":
        query = query.where(Person.kind == "external")
    if f.gap_in:
        query = query.where(
            exists().where(
                PersonCompetency.person_id == Person.id,
                PersonCompetency.competency_id == Competency.id,
                Competency.code == f.gap_in,
                PersonCompetency.required_level > PersonCompetency.current_level,
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, f.page)
    rows = db.session.scalars(
        query.order_by(Person.name, Person.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).unique()
    return list(rows), total


def names_of(person_ids: set[int] | list[int]) -> dict[int, str]:
    """Names by person id, in one query."""
    return {pid: name for pid, name in db.session.execute(
        select(Person.id, Person.name).where(Person.id.in_(set(person_ids) or {0})))}


def filter_choices(*, active_only: bool = False) -> dict[str, Any]:
    """What the people filters offer (also the programme and round forms'): units, places,
    competencies (``active_only``: those a new round or programme may still use), grades."""
    competencies = select(Competency).order_by(Competency.code)
    if active_only:
        competencies = competencies.where(Competency.active.is_(True))
    return {
        "units": list(db.session.scalars(select(Unit).order_by(Unit.name))),
        "cities": list(db.session.scalars(select(Location.city).distinct().where(
            Location.city.is_not(None)).order_by(Location.city))),
        "competencies": list(db.session.scalars(competencies)),
        "grade_choices": filter_choices_grades(),
    }


def filter_choices_grades() -> list[tuple[int, str]]:
    """rank -> "III/a · PPPK IX": PNS golongan and PPPK grades share one ordered scale."""
    return [(rank, f"{grade_label(rank, 'pns')} · PPPK {grade_label(rank, 'pppk')}")
            for rank in range(1, 18)]


@dataclass
class AvailabilityGrid:
    days: list[int]  # weekday numbers shown (0 = Monday)
    rows: list[tuple[int, list[bool]]]  # (minute of day, free on each shown day)


def availability_grid(person: Person, step: int = 30) -> AvailabilityGrid:
    """The person's weekly windows in their local time: Monday-Friday 06:00-18:00 always,
    widened to any weekend day or early/late hour a window actually uses."""
    windows = person.availability
    days = [d for d in range(7) if d < 5 or any(w.weekday == d for w in windows)]
    first = min([6 * 60] + [w.start_minute // step * step for w in windows])
    last = max([18 * 60] + [w.end_minute for w in windows])
    rows = [
        (minute, [any(w.weekday == d and w.start_minute <= minute < w.end_minute
                      for w in windows) for d in days])
        for minute in range(first, last, step)
    ]
    return AvailabilityGrid(days, rows)
