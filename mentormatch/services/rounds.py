"""Matching rounds: create, select participants, solve in the background, adjust, approve."""

from __future__ import annotations

import threading
import time
import traceback
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update

import solver

from ..extensions import db
from ..models import Pair, Participant, Person, Programme, Proposal, Round, RoundConstraint
from ..models.base import utcnow
from . import audit, solver_bridge
from .programmes import Filters, apply_filters

BUSY = ("queued", "solving")
KINDS = ("initial", "rematch")


class RoundError(ValueError):
    """A user-caused problem, with a message safe to show."""


class RoundBusy(RoundError):
    pass


class NeedsOverride(RoundError):
    def __init__(self, violations: list[str]) -> None:
        super().__init__("This pair breaks hard rule(s): " + ", ".join(violations))
        self.violations = violations


def create(prog: Programme, actor: Any, *, name: str, filters: dict | None = None,
           criteria: dict | None = None, kind: str = "initial") -> Round:
    if not name.strip():
        raise RoundError("A round needs a name.")
    if kind not in KINDS:
        raise RoundError("Unknown round kind.")
    rnd = Round(programme_id=prog.id, name=name.strip()[:200], kind=kind,
                filters=Filters.from_dict(filters).to_dict(),
                criteria=criteria or solver_bridge.default_criteria(), status="draft",
                progress={}, stats={})
    rnd.programme = prog
    db.session.add(rnd)
    db.session.flush()
    audit.record(actor, "round.create", rnd, programme_id=prog.id, kind=kind)
    return rnd


def for_programme(prog: Programme) -> list[Round]:
    return list(db.session.scalars(
        select(Round).where(Round.programme_id == prog.id).order_by(Round.id.desc())))


def _editable(rnd: Round) -> None:
    if rnd.status in BUSY:
        raise RoundBusy("The round is being solved; wait for it to finish.")
    if rnd.status == "approved":
        raise RoundError("The round is approved and can no longer change.")


def set_filters(rnd: Round, filters: dict, actor: Any) -> None:
    _editable(rnd)
    rnd.filters = Filters.from_dict(filters).to_dict()
    audit.record(actor, "round.filters", rnd, programme_id=rnd.programme_id, **rnd.filters)
    db.session.flush()


def set_criteria(rnd: Round, values: dict, actor: Any) -> None:
    _editable(rnd)
    base = solver_bridge.criteria_of(rnd)
    out = dict(base)
    try:
        out["min_grade_steps"] = max(0, min(16, int(values.get("min_grade_steps",
                                                              base["min_grade_steps"]))))
        for k in solver_bridge.RULE_KEYS:
            out[k] = bool(values.get(k, False))
        out["weights"] = {k: max(-100.0, min(100.0, float(values.get(f"w_{k}", v))))
                          for k, v in base["weights"].items()}
        out["time_limit_seconds"] = max(1.0, min(600.0, float(
            values.get("time_limit_seconds", base["time_limit_seconds"]))))
    except (TypeError, ValueError) as exc:
        raise RoundError("Criteria must be numbers.") from exc
    rnd.criteria = out
    audit.record(actor, "round.criteria", rnd, programme_id=rnd.programme_id, criteria=out)
    db.session.flush()


def selection(rnd: Round) -> tuple[list[int], list[int]]:
    """Person ids of the round's mentees (by its filters) and of the programme's mentors."""
    f = Filters.from_dict(rnd.filters)
    base = select(Participant.person_id).join(Person, Participant.person_id == Person.id).where(
        Participant.programme_id == rnd.programme_id, Participant.active.is_(True),
        Person.active.is_(True))
    mentees = apply_filters(base.where(Participant.role == "mentee"), f, rnd.programme_id)
    if rnd.kind == "rematch":  # only the gaps: people without a live pair
        mentees = apply_filters(mentees, Filters(not_matched=True), rnd.programme_id)
    mentors = base.where(Participant.role == "mentor")
    return (sorted(db.session.scalars(mentees)), sorted(db.session.scalars(mentors)))


def counts(rnd: Round) -> dict[str, int]:
    mentees, mentors = selection(rnd)
    capacity = db.session.scalar(
        select(func.coalesce(func.sum(func.coalesce(Participant.capacity,
                                                    rnd.programme.default_capacity)), 0))
        .where(Participant.programme_id == rnd.programme_id, Participant.role == "mentor",
               Participant.active.is_(True))) or 0
    return {"mentees": len(mentees), "mentors": len(mentors), "capacity": int(capacity)}


# --------------------------------------------------------------------------- solving


def queue(rnd: Round, actor: Any) -> Round:
    """Mark the round queued; the caller commits, then starts the worker."""
    _editable(rnd)
    rnd.status = "queued"
    rnd.queued_at = utcnow()
    rnd.started_at = rnd.finished_at = None
    rnd.error = None
    rnd.progress = {"phase": "queued"}
    audit.record(actor, "round.solve", rnd, programme_id=rnd.programme_id)
    db.session.flush()
    return rnd


def _progress(round_id: int, **values: Any) -> None:
    rnd = db.session.get(Round, round_id)
    rnd.progress = {**(rnd.progress or {}), **values}
    db.session.commit()


def run(round_id: int, worker: str = "thread") -> str:
    """Claim a queued round and solve it; results are written in one transaction.

    Returns the final status. A crash rolls back and marks the round failed (re-runnable)."""
    claimed = db.session.execute(
        update(Round).where(Round.id == round_id, Round.status == "queued")
        .values(status="solving", started_at=utcnow(), worker=worker[:100],
                progress={"phase": "building"})
    ).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    t0 = time.monotonic()
    try:
        rnd = db.session.get(Round, round_id)
        mentees, mentors = selection(rnd)
        built = solver_bridge.build(rnd, mentees, mentors)
        _progress(round_id, phase="solving", mentees=len(built.instance.mentees),
                  mentors=len(built.instance.mentors), elapsed=round(time.monotonic() - t0, 2))
        if built.instance.mentees and built.instance.mentors:
            sol = solver.solve(built.instance, built.config)
            problems = solver.validate(built.instance, sol, built.config)
            if problems:
                raise RuntimeError("solution failed validation: " + "; ".join(problems[:5]))
        else:
            sol = solver.Solution(
                pairs=[], infeasible_locks=[], stats=solver.Stats(status="EMPTY"),
                unmatched=[solver.Unmatched(m.id, "no_eligible_mentor")
                           for m in built.instance.mentees])
        rnd = db.session.get(Round, round_id)
        solver_bridge.write_solution(rnd, built, sol)
        stats = sol.stats.to_dict()
        rnd.stats = {k: stats.get(k) for k in ("status", "objective", "matched", "bound", "gap",
                                               "wall_time", "matched_priority")} | {
            "infeasible_locks": sol.infeasible_locks, "mentees": len(mentees),
            "mentors": len(mentors)}
        rnd.progress = {"phase": "done", "elapsed": round(time.monotonic() - t0, 2),
                        "matched": len(rnd.proposals), "best_objective": stats.get("objective")}
        rnd.status = "solved"
        rnd.finished_at = utcnow()
        audit.record(None, "round.solved", rnd, programme_id=rnd.programme_id,
                     matched=len(rnd.proposals), status=stats.get("status"))
        db.session.commit()
        return "solved"
    except Exception as exc:  # noqa: BLE001 - any crash must leave the round re-runnable
        db.session.rollback()
        detail = f"{type(exc).__name__}: {exc}"
        rnd = db.session.get(Round, round_id)
        rnd.status = "failed"
        rnd.error = detail[:2000]
        rnd.finished_at = utcnow()
        rnd.progress = {"phase": "failed", "elapsed": round(time.monotonic() - t0, 2)}
        audit.record(None, "round.failed", rnd, programme_id=rnd.programme_id,
                     error=detail[:500], trace=traceback.format_exc()[-1500:])
        db.session.commit()
        return "failed"


_threads: dict[int, threading.Thread] = {}


def start_worker(app: Flask, round_id: int) -> threading.Thread:
    """Solve in a thread with its own app context (demo mode; the scheduler may call `run`)."""

    def target() -> None:
        with app.app_context():
            try:
                run(round_id, worker=f"thread-{threading.get_ident()}")
            finally:
                db.session.remove()

    thread = threading.Thread(target=target, name=f"round-{round_id}", daemon=True)
    _threads[round_id] = thread
    thread.start()
    return thread


def wait(round_id: int, timeout: float = 60) -> None:
    thread = _threads.pop(round_id, None)
    if thread is not None:
        thread.join(timeout)


def progress_of(rnd: Round) -> dict[str, Any]:
    p = dict(rnd.progress or {})
    if rnd.status == "solving" and rnd.started_at:
        started = rnd.started_at.replace(tzinfo=UTC) if rnd.started_at.tzinfo is None \
            else rnd.started_at
        p["elapsed"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    return {"status": rnd.status, "progress": p, "stats": rnd.stats or {}, "error": rnd.error,
            "matched": len(rnd.proposals) if rnd.status in ("solved", "approved") else
            p.get("matched", 0)}


# --------------------------------------------------------------------------- adjusting


def _participant(rnd: Round, person_id: int, role: str) -> Participant:
    part = db.session.scalar(select(Participant).where(
        Participant.programme_id == rnd.programme_id, Participant.person_id == person_id,
        Participant.role == role))
    if part is None:
        raise RoundError(f"That person is not a {role} of this programme.")
    return part


def _set(rnd: Round, mentee_id: int, mentor_id: int, kind: str, actor: Any,
         reason: str | None = None) -> RoundConstraint:
    _editable(rnd)
    _participant(rnd, mentee_id, "mentee")
    _participant(rnd, mentor_id, "mentor")
    if kind == "lock":  # one lock per mentee: a new lock replaces the old one
        for c in list(rnd.constraints):
            if c.kind == "lock" and c.mentee_id == mentee_id and c.mentor_id != mentor_id:
                rnd.constraints.remove(c)
    row = next((c for c in rnd.constraints
                if c.mentee_id == mentee_id and c.mentor_id == mentor_id), None)
    if row is None:
        row = RoundConstraint(mentee_id=mentee_id, mentor_id=mentor_id)
        rnd.constraints.append(row)
    row.kind, row.override_reason = kind, reason
    row.created_by_id, row.created_at = getattr(actor, "id", None), utcnow()
    db.session.flush()
    audit.record(actor, f"round.{kind}", rnd, programme_id=rnd.programme_id,
                 mentee_id=mentee_id, mentor_id=mentor_id, override_reason=reason)
    return row


def lock(rnd: Round, mentee_id: int, mentor_id: int, actor: Any) -> RoundConstraint:
    return _set(rnd, mentee_id, mentor_id, "lock", actor)


def forbid(rnd: Round, mentee_id: int, mentor_id: int, actor: Any) -> RoundConstraint:
    return _set(rnd, mentee_id, mentor_id, "forbid", actor)


def clear(rnd: Round, constraint_id: int, actor: Any) -> None:
    _editable(rnd)
    row = next((c for c in rnd.constraints if c.id == constraint_id), None)
    if row is None:
        raise RoundError("No such adjustment.")
    rnd.constraints.remove(row)
    audit.record(actor, "round.clear", rnd, programme_id=rnd.programme_id,
                 mentee_id=row.mentee_id, mentor_id=row.mentor_id, kind=row.kind)
    db.session.flush()


def set_by_hand(rnd: Round, mentee_id: int, mentor_id: int, actor: Any,
                override_reason: str = "") -> tuple[RoundConstraint, list[str]]:
    """Pair two people by hand. Hard-rule breaches need a written reason, and only rules in
    `solver_bridge.OVERRIDABLE` may be waived; a pair with no common time is refused."""
    mentee = _participant(rnd, mentee_id, "mentee")
    mentor = _participant(rnd, mentor_id, "mentor")
    violations, common = solver_bridge.check_pair(rnd, mentee, mentor)
    violations = [v for v in violations if v != "common_slot"]
    if not common:
        raise RoundError("These two people have no common free time.")
    hard = [v for v in violations if v not in solver_bridge.OVERRIDABLE]
    if hard:
        raise RoundError("Policy does not allow overriding: " + ", ".join(hard))
    reason = override_reason.strip()[:500]
    if violations and not reason:
        raise NeedsOverride(violations)
    return _set(rnd, mentee_id, mentor_id, "lock", actor,
                reason if violations else None), violations


# --------------------------------------------------------------------------- approval


def first_start(prog: Programme, weekday_utc: int, minute_utc: int,
                today: datetime | None = None) -> datetime:
    now = today or datetime.now(UTC)
    day = max(now.date() + timedelta(days=1), prog.start_date)
    day += timedelta(days=(weekday_utc - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minute_utc)


def approve(rnd: Round, actor: Any, *, invite: bool = True) -> list[Pair]:
    """Publish: create the pairs (and their series + invites). Idempotent: a second call, or a
    racing double click, creates nothing (status switch guarded in SQL + unique live pair)."""
    if rnd.status == "approved":
        return []
    if rnd.status != "solved":
        raise RoundError("Only a solved round can be approved.")
    switched = db.session.execute(
        update(Round).where(Round.id == rnd.id, Round.status == "solved")
        .values(status="approved", approved_by_id=getattr(actor, "id", None),
                approved_at=utcnow())).rowcount
    if not switched:
        db.session.refresh(rnd)
        return []
    db.session.refresh(rnd)
    live = set(db.session.scalars(select(Pair.mentee_id).where(
        Pair.programme_id == rnd.programme_id, Pair.status.in_(("invited", "active")))))
    created: list[Pair] = []
    for prop in rnd.proposals:
        if prop.mentee_id in live:
            continue
        pair = Pair(programme_id=rnd.programme_id, round_id=rnd.id, mentor_id=prop.mentor_id,
                    mentee_id=prop.mentee_id, status="invited", reason_id=prop.reason_id,
                    reason_en=prop.reason_en, focus=_focus(prop))
        db.session.add(pair)
        db.session.flush()
        live.add(prop.mentee_id)
        created.append(pair)
        if invite:
            _publish(pair, prop, actor)
    audit.record(actor, "round.approve", rnd, programme_id=rnd.programme_id,
                 pairs=len(created))
    db.session.flush()
    return created


def _focus(prop: Proposal) -> list[str]:
    mentee = db.session.get(Person, prop.mentee_id)
    gaps = sorted((pc for pc in mentee.competencies if pc.gap > 0), key=lambda pc: -pc.gap)
    return [pc.competency.code for pc in gaps[:3]]


def _publish(pair: Pair, prop: Proposal, actor: Any) -> None:
    try:
        from . import invites
    except ImportError:  # calendar issue not present: pairs only
        return
    series = invites.create_series_for_pair(
        pair, first_start(pair.programme, prop.weekday_utc, prop.start_minute_utc), actor=actor)
    invites.send_invites(series)
