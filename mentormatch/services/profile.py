"""A mentor or mentee keeps their own profile: weekly availability, mode, how many mentees
they can take (mentors), competency levels (a mentor's: what they can teach; a mentee's
self-assessment and the level they want to reach). A change marks solved rounds of their
programmes stale, as a coordinator's change does."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Actor, AvailabilityWindow, Participant, Person, PersonCompetency
from ..models.person import MODES
from . import audit
from .catalogue import all_competencies
from .errors import ServiceError
from .programmes import mark_stale
from .staff_import import parse_windows

DAY_ABBR = ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min")


class ProfileError(ServiceError):
    def __init__(self, code: str, message: Any, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def windows_text(person: Person) -> str:
    return "; ".join(
        f"{DAY_ABBR[w.weekday]} {w.start_minute // 60:02d}:{w.start_minute % 60:02d}-"
        f"{w.end_minute // 60:02d}:{w.end_minute % 60:02d}"
        for w in sorted(person.availability, key=lambda w: (w.weekday, w.start_minute)))


def roles_of(person: Person) -> set[str]:
    return set(db.session.scalars(select(Participant.role).where(
        Participant.person_id == person.id, Participant.active.is_(True))))


def capacity_of(person: Person) -> int | None:
    return db.session.scalar(select(Participant.capacity).where(
        Participant.person_id == person.id, Participant.role == "mentor",
        Participant.active.is_(True)).limit(1))


def form_rows(person: Person) -> list[tuple[Any, PersonCompetency | None]]:
    have = {pc.competency_id: pc for pc in person.competencies}
    return [(c, have.get(c.id)) for c in all_competencies()]


def _level(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 5:
        raise ProfileError("level", _l("Levels are whole numbers from 1 to 5."))
    return int(raw)


def _levels(raw: dict[int, str], field: str) -> dict[int, int | None]:
    out = {}
    for cid, value in raw.items():
        try:
            out[cid] = _level(value)
        except ProfileError as exc:
            exc.field = f"{field}_{cid}"
            raise
    return out


def update_own(person: Person, actor: Actor, *, availability: str, mode: str,
               capacity: str = "", levels: dict[int, str], targets: dict[int, str]) -> int:
    """Save the person's own profile; returns how many solved rounds became stale. Nothing is
    written when any field is wrong."""
    try:
        windows = parse_windows(availability)
    except ValueError as exc:
        raise ProfileError("windows", _l(
            "Write availability like 'Sen 09:00-12:00; Kam 13:00-15:00' (could not read "
            "'%(part)s').", part=exc.args[-1] if exc.args else availability),
            field="availability") from exc
    if mode not in MODES:
        raise ProfileError("mode", _l("Choose online, in person or either."), field="mode")
    roles = roles_of(person)
    cap = None
    if "mentor" in roles and capacity.strip():
        if not capacity.strip().isdigit() or not 1 <= int(capacity) <= 20:
            raise ProfileError("capacity", _l("Mentees at a time: a number from 1 to 20."),
                               field="capacity")
        cap = int(capacity)
    new_levels = _levels(levels, "level")
    new_targets = _levels(targets, "target") if "mentee" in roles else {}
    before = {"availability": windows_text(person), "mode": person.mode,
              "capacity": capacity_of(person)}

    person.availability.clear()
    db.session.flush()
    for day, start, end in windows:
        person.availability.append(AvailabilityWindow(weekday=day, start_minute=start,
                                                      end_minute=end))
    person.mode = mode
    if cap is not None:
        for part in db.session.scalars(select(Participant).where(
                Participant.person_id == person.id, Participant.role == "mentor",
                Participant.active.is_(True))):
            part.capacity = cap
    have = {pc.competency_id: pc for pc in person.competencies}
    changed_levels: dict[int, tuple[int | None, int]] = {}
    for cid, level in new_levels.items():
        target = new_targets.get(cid) if "mentee" in roles else None
        pc = have.get(cid)
        if pc is None:
            if level is None:
                continue
            person.competencies.append(PersonCompetency(
                competency_id=cid, current_level=level, required_level=target))
            changed_levels[cid] = (None, level)
            continue
        if level is not None and level != pc.current_level:
            changed_levels[cid] = (pc.current_level, level)
            pc.current_level = level
        if "mentee" in roles and cid in new_targets and target != pc.required_level:
            pc.required_level = target
    db.session.flush()
    stale = 0
    for pid in set(db.session.scalars(select(Participant.programme_id).where(
            Participant.person_id == person.id, Participant.active.is_(True)))):
        stale += mark_stale(pid)
    after = {"availability": windows_text(person), "mode": person.mode,
             "capacity": cap if cap is not None else before["capacity"]}
    audit.record(actor, "person.self_update", person,
                 changes={k: {"old": before[k], "new": after[k]} for k in before
                          if before[k] != after[k]},
                 levels={str(k): {"old": o, "new": n} for k, (o, n) in changed_levels.items()})
    return stale
