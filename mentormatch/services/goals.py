"""A pair's development plan (goals) and recorded level changes; the before / now / required
chart data. Refusals are `GoalError` (codes in `participant_errors`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import Actor, Competency, Goal, LevelChange, Pair, Person, PersonCompetency
from ..models.pair import GOAL_STATES
from . import audit
from .participant_errors import GoalError


def _member(pair: Pair, person: Person) -> str:
    role = pair.member_role(person.id)
    if role is None:
        raise GoalError("not_member")
    return role


def add_goal(pair: Pair, person: Person, *, competency_id: int, description: str,
             target_level: int, due_date: date | None, actor: Actor = None) -> Goal:
    _member(pair, person)
    if db.session.get(Competency, competency_id) is None:
        raise GoalError("bad_competency")
    if not isinstance(target_level, int) or not 1 <= target_level <= 5:
        raise GoalError("bad_level")
    description = (description or "").strip()
    if not description or len(description) > 1000:
        raise GoalError("description_required")
    goal = Goal(pair_id=pair.id, competency_id=competency_id, description=description,
                target_level=target_level, due_date=due_date, status="open")
    db.session.add(goal)
    db.session.flush()
    audit.record(actor, "goal.add", goal, programme_id=pair.programme_id)
    return goal


def set_goal_status(goal: Goal, person: Person, status: str, *, actor: Actor = None) -> Goal:
    pair = db.session.get_one(Pair, goal.pair_id)
    _member(pair, person)
    if status not in GOAL_STATES:
        raise GoalError("bad_status")
    goal.status = status
    db.session.flush()
    audit.record(actor, "goal.status", goal, programme_id=pair.programme_id, status=status)
    return goal


def record_level_change(pair: Pair, person: Person, *, competency_id: int, new_level: int,
                        note: str | None, actor: Actor = None) -> LevelChange:
    """Mentee or mentor records the mentee's new level in a competency, with a note.

    Only the mentor's record is a *confirmed* level (what `current_level`, the solver and the
    coordinator's reports read); a mentee's own record is a self-assessment, kept apart in the
    level history (`details.kind = "self"`) and shown as such."""
    role = _member(pair, person)
    if not isinstance(new_level, int) or not 1 <= new_level <= 5:
        raise GoalError("bad_level")
    if db.session.get(Competency, competency_id) is None:
        raise GoalError("bad_competency")
    mentee: Person = pair.mentee
    pc = next((c for c in mentee.competencies if c.competency_id == competency_id), None)
    if role != "mentor":  # self-assessment: recorded, the confirmed level stays
        old = pc.current_level if pc is not None else new_level
        return _record_change(actor, pair, competency_id, old, new_level, note, role, "self")
    if pc is None:
        pc = PersonCompetency(competency_id=competency_id, current_level=new_level,
                              baseline_level=None)
        mentee.competencies.append(pc)
        old = new_level
    else:
        old = pc.current_level
    if pc.baseline_level is None:
        pc.baseline_level = old  # the "before" of the chart, fixed at the first change
    pc.current_level = new_level
    return _record_change(actor, pair, competency_id, old, new_level, note, role, "confirmed")


def _record_change(actor: Actor, pair: Pair, competency_id: int, old: int, new: int,
                   note: str | None, role: str, kind: str) -> LevelChange:
    """The history row and its audit entry: a self-assessment and a confirmed change differ
    only in ``kind`` (the chart draws confirmed levels; both stay in the history)."""
    change = LevelChange(person_id=pair.mentee_id, competency_id=competency_id, pair_id=pair.id,
                         old_level=old, new_level=new, note=(note or "").strip()[:1000] or None,
                         recorded_by_id=getattr(actor, "id", None),
                         details={"by_role": role, "kind": kind})
    db.session.add(change)
    db.session.flush()
    audit.record(actor, "level.self_assessment" if kind == "self" else "level.change", change,
                 programme_id=pair.programme_id, old=old, new=new)
    return change


@dataclass(frozen=True)
class ProgressRow:
    competency: Competency
    before: int
    now: int
    required: int | None
    target: int | None


def progress(pair: Pair) -> list[ProgressRow]:
    """Before (baseline) and now per competency of the mentee, with goal targets."""
    targets: dict[int, int] = {}
    for g in pair.goals:
        if g.status != "dropped":
            targets[g.competency_id] = max(targets.get(g.competency_id, 0), g.target_level)
    rows = []
    for pc in pair.mentee.competencies:
        if pc.gap or pc.competency_id in targets or pc.baseline_level is not None:
            rows.append(ProgressRow(pc.competency, pc.baseline_level or pc.current_level,
                                    pc.current_level, pc.required_level,
                                    targets.get(pc.competency_id)))
    return sorted(rows, key=lambda r: r.competency.code)


def level_changes(pair: Pair) -> list[LevelChange]:
    return list(db.session.scalars(
        select(LevelChange).where(LevelChange.pair_id == pair.id)
        .order_by(LevelChange.recorded_at.desc(), LevelChange.id.desc())))
