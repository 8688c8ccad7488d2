"""Matching rounds: create, select participants, solve (by the run_solves job), adjust, approve.

A round's life: draft -> queued (a request records the wish) -> solving (a worker claimed it
with a conditional UPDATE) -> solved | failed; any change after solving makes it stale, and only
a solved round is approved. Every status switch is one conditional UPDATE, so double clicks,
racing requests and two schedulers cannot run, change or publish a round twice.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, Result, Table, case, exists, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

import solver

from ..calendar import plan_occurrences
from ..extensions import db
from ..models import (
    Actor,
    Location,
    Pair,
    Participant,
    Person,
    Programme,
    Proposal,
    Round,
    RoundConstraint,
)
from ..models.base import utcnow
from ..models.matching import BUSY_ROUND_STATES
from ..settings import settings
from . import audit, busy, invites, mailer, programmes, reason_words, solver_bridge
from .programmes import Filters, ProgrammeError, apply_filters, has_live_pair
from .timefmt import format_local

log = logging.getLogger(__name__)

BUSY = BUSY_ROUND_STATES
EDITABLE = ("draft", "solved", "stale", "failed")
KINDS = ("initial", "rematch")
LIVE = Pair.LIVE_STATES


class RoundError(ProgrammeError):
    """A user-caused problem with a round (code + lazily translated message)."""


class RoundBusy(RoundError):
    pass


class NeedsOverride(RoundError):
    def __init__(self, violations: list[str]) -> None:
        super().__init__("needs_override", _l(
            "Warning: this pair breaks %(rules)s. Give a reason to override.",
            rules=reason_words.rule_names(violations)))
        self.violations = violations


def _rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (a DML statement's result is a CursorResult)."""
    return cast("CursorResult[Any]", result).rowcount


def create(prog: Programme, actor: Actor, *, name: str, filters: Any = None,
           criteria: dict[str, Any] | None = None, kind: str = "initial") -> Round:
    if not name.strip():
        raise RoundError("name_required", _l("A round needs a name."))
    if kind not in KINDS:
        raise RoundError("kind", _l("Choose the kind of round."))
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


def _refused(rnd: Round) -> RoundError:
    db.session.refresh(rnd)
    if rnd.status in BUSY:
        return RoundBusy("busy", _l("The round is being solved; wait for it to finish."))
    return RoundError("approved", _l("The round is approved and can no longer change."))


def _touch(rnd: Round, *, stale: bool) -> None:
    """Guard a change in SQL: the round must be editable at this instant (not queued, solving
    or approved); with ``stale`` a solved round becomes stale and must be re-solved before it
    can be approved."""
    values: dict[str, Any] = {"updated_at": utcnow()}
    if stale:
        values["status"] = case((Round.status == "solved", "stale"), else_=Round.status)
    res = db.session.execute(
        update(Round).where(Round.id == rnd.id, Round.status.in_(EDITABLE)).values(**values)
        .execution_options(synchronize_session=False))
    if _rowcount(res) != 1:
        raise _refused(rnd)
    db.session.expire(rnd, ["status", "updated_at"])


def set_filters(rnd: Round, filters: Any, actor: Actor) -> None:
    new = Filters.from_dict(filters).to_dict()
    _touch(rnd, stale=new != Filters.from_dict(rnd.filters).to_dict())
    rnd.filters = new
    audit.record(actor, "round.filters", rnd, programme_id=rnd.programme_id, **rnd.filters)
    db.session.flush()


def set_criteria(rnd: Round, values: Any, actor: Actor) -> None:
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
        raise RoundError("criteria_numbers", _l("Criteria must be numbers.")) from exc
    _touch(rnd, stale=out != base)
    rnd.criteria = out
    audit.record(actor, "round.criteria", rnd, programme_id=rnd.programme_id, criteria=out)
    db.session.flush()


def _selection_queries(rnd: Round) -> tuple[Any, Any]:
    f = Filters.from_dict(rnd.filters)
    base = select(Participant.person_id).join(Person, Participant.person_id == Person.id).where(
        Participant.programme_id == rnd.programme_id, Participant.active.is_(True),
        Person.active.is_(True))
    mentees = apply_filters(base.where(Participant.role == "mentee"), f, rnd.programme_id)
    mentees = mentees.where(~has_live_pair(rnd.programme_id))
    return mentees, base.where(Participant.role == "mentor")


def selection(rnd: Round) -> tuple[list[int], list[int]]:
    """Person ids of the round's mentees (by its filters, without a live pair: the gaps) and of
    the programme's active mentors."""
    mentees, mentors = _selection_queries(rnd)
    return (sorted(db.session.scalars(mentees)), sorted(db.session.scalars(mentors)))


def counts(rnd: Round) -> dict[str, int | None]:
    """The round's participants. An approved round shows them as they were when it was
    solved (stored with its statistics; the programme has moved on since: its pairs are live
    now, a follow-up round has its own selection); any other round shows them as they are."""
    stats = rnd.stats or {}
    if rnd.status == "approved" and stats.get("status"):
        if isinstance(stats.get("counts"), dict):
            return dict(stats["counts"])
        # solved before the counts were stored: what its statistics say (free places unknown)
        return {"mentees": int(stats.get("mentees") or 0),
                "mentors": int(stats.get("mentors") or 0), "capacity": None,
                "kept": int(stats.get("kept") or 0)}
    return live_counts(rnd)


def live_counts(rnd: Round) -> dict[str, int | None]:
    """Mentees selected, mentors, free places (capacity minus live pairs) and mentees kept
    with their live pair: five counts in one statement (scalar subqueries), not five."""
    mentees_q, mentors_q = _selection_queries(rnd)  # counted in the database, not loaded
    prog = rnd.programme
    n_mentees = select(func.count()).select_from(mentees_q.subquery()).scalar_subquery()
    n_mentors = select(func.count()).select_from(mentors_q.subquery()).scalar_subquery()
    capacity = (
        select(func.coalesce(func.sum(func.coalesce(Participant.capacity,
                                                    prog.default_capacity)), 0))
        .join(Person, Participant.person_id == Person.id)
        .where(Participant.programme_id == rnd.programme_id, Participant.role == "mentor",
               Participant.active.is_(True), Person.active.is_(True))).scalar_subquery()
    live = select(func.count(Pair.id)).where(
        Pair.programme_id == rnd.programme_id, Pair.status.in_(LIVE),
        Pair.mentor_id.in_(select(Participant.person_id).where(
            Participant.programme_id == rnd.programme_id, Participant.role == "mentor",
            Participant.active.is_(True)))).scalar_subquery()
    kept = select(func.count(Pair.id)).where(
        Pair.programme_id == rnd.programme_id, Pair.status.in_(LIVE)).scalar_subquery()
    row = db.session.execute(select(n_mentees, n_mentors, capacity, live, kept)).one()
    mentees, mentors, places, taken, kept_n = (int(v or 0) for v in row)
    return {"mentees": mentees, "mentors": mentors, "capacity": max(0, places - taken),
            "kept": kept_n}


def _pending(rnd: Round) -> tuple[Any, Any]:
    """The round's proposals that approving would publish: those whose mentee has no live
    pair."""
    live = select(Pair.mentee_id).where(Pair.programme_id == rnd.programme_id,
                                        Pair.status.in_(LIVE))
    return Proposal.round_id == rnd.id, Proposal.mentee_id.not_in(live)


def to_publish(rnd: Round, today: datetime | None = None) -> dict[str, Any]:
    """What approving would publish (proposals whose mentee has no live pair): pairs, and the
    distinct mentors and mentees who get invitations. The approval question counts these.
    Also the sessions the pairs will really get, decided by ``SessionFit`` as approving does:
    ``short`` pairs get fewer than planned (``fewest``..``most`` of them), ``no_time`` pairs
    none (they are not published). Counted per weekly slot and zone, never per proposal."""
    pending = _pending(rnd)
    # the distinct people ride along each slot row: one statement for the whole question
    people = [select(func.count(func.distinct(col))).where(*pending).scalar_subquery()
              for col in (Proposal.mentor_id, Proposal.mentee_id)]
    prog = rnd.programme
    fit = SessionFit(prog, today)
    pairs, mentors, mentees = 0, 0, 0
    short, no_time, fewest, most = 0, 0, prog.session_count, 0
    # the mentor's zone, as Person.timezone reads it (own setting, else the location's)
    zone = func.coalesce(func.nullif(Person.timezone_override, ""), Location.timezone,
                         "Asia/Jakarta")
    for weekday, minute, tz, n, row_mentors, row_mentees in db.session.execute(
            select(Proposal.weekday_utc, Proposal.start_minute_utc, zone,
                   func.count(Proposal.id), *people)
            .join(Person, Person.id == Proposal.mentor_id)
            .outerjoin(Location, Location.id == Person.location_id).where(*pending)
            .group_by(Proposal.weekday_utc, Proposal.start_minute_utc, zone)):
        pairs, mentors, mentees = pairs + n, row_mentors, row_mentees
        _first, k = fit(weekday, minute, tz)
        if k == 0:
            no_time += n
        elif k < prog.session_count:
            short += n
            fewest, most = min(fewest, k), max(most, k)
    return {"pairs": int(pairs or 0), "mentors": int(mentors or 0),
            "mentees": int(mentees or 0), "sessions": prog.session_count, "short": short,
            "fewest": fewest, "most": most, "no_time": no_time}


# --------------------------------------------------------------------------- solving


def queue(rnd: Round, actor: Actor) -> Round:
    """Record that the round should be solved (the run_solves job does it). One conditional
    UPDATE: a double click or two racing requests queue it once; the second is refused."""
    now = utcnow()
    res = db.session.execute(
        update(Round).where(Round.id == rnd.id, Round.status.in_(EDITABLE))
        .values(status="queued", queued_at=now, started_at=None, finished_at=None, error=None,
                heartbeat_at=None, worker=None, progress={"phase": "queued"}, updated_at=now)
        .execution_options(synchronize_session=False))
    if _rowcount(res) != 1:
        raise _refused(rnd)
    db.session.expire(rnd)
    audit.record(actor, "round.solve", rnd, programme_id=rnd.programme_id)
    db.session.flush()
    return rnd


def recover_stalled(now: datetime | None = None, after_seconds: float | None = None
                    ) -> list[int]:
    """Rounds whose solve stopped writing its heartbeat (the worker died or was killed) become
    failed and re-runnable; their earlier proposals were never touched. Commits."""
    now = now or utcnow()
    after = float(after_seconds if after_seconds is not None
                  else settings().rounds.stalled_after_seconds)
    cutoff = now - timedelta(seconds=after)
    last = func.coalesce(Round.heartbeat_at, Round.started_at, Round.queued_at)
    ids = list(db.session.scalars(select(Round.id).where(Round.status == "solving",
                                                         last < cutoff)))
    done = []
    for rid in ids:
        res = db.session.execute(
            update(Round).where(Round.id == rid, Round.status == "solving", last < cutoff)
            .values(status="failed", error="worker_stopped", finished_at=now,
                    progress={"phase": "failed"}, updated_at=now)
            .execution_options(synchronize_session=False))
        if _rowcount(res) == 1:
            prog_id = db.session.scalar(select(Round.programme_id).where(Round.id == rid))
            audit.record(None, "round.failed", None, programme_id=prog_id, round_id=rid,
                         error="worker_stopped")
            done.append(rid)
        db.session.commit()
    return done


def fail_dead_solve(round_id: int, token: str, now: datetime | None = None) -> bool:
    """The process solving this claim died: fail the round at once, as a stalled one would be
    (re-runnable, its earlier proposals untouched). Only while the claim is still ours.
    Commits."""
    now = now or utcnow()
    res = db.session.execute(
        update(Round).where(Round.id == round_id, Round.status == "solving",
                            Round.worker == token)
        .values(status="failed", error="worker_stopped", finished_at=now,
                progress={"phase": "failed"}, updated_at=now)
        .execution_options(synchronize_session=False))
    if _rowcount(res) == 1:
        prog_id = db.session.scalar(select(Round.programme_id).where(Round.id == round_id))
        audit.record(None, "round.failed", None, programme_id=prog_id, round_id=round_id,
                     error="worker_stopped")
    db.session.commit()
    return _rowcount(res) == 1


def claim_next(worker: str) -> tuple[int, str] | None:
    """Take the oldest queued round: a conditional UPDATE, so two schedulers never run the
    same round. Commits. Returns (round id, claim token)."""
    ids = list(db.session.scalars(select(Round.id).where(Round.status == "queued")
                                  .order_by(Round.queued_at, Round.id).limit(20)))
    db.session.commit()
    for rid in ids:
        token = f"{worker[:60]}:{uuid.uuid4().hex[:16]}"
        now = utcnow()
        res = db.session.execute(
            update(Round).where(Round.id == rid, Round.status == "queued")
            .values(status="solving", started_at=now, heartbeat_at=now, worker=token,
                    progress={"phase": "building"}, updated_at=now)
            .execution_options(synchronize_session=False))
        db.session.commit()
        if _rowcount(res) == 1:
            return rid, token
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return round(float(value), 3)
    try:
        return round(float(value), 3)
    except (TypeError, ValueError):
        return str(value)[:50]


class ProgressWriter:
    """The solver's progress callback: keeps the latest phase / elapsed / matched / objective
    / bound and writes them, at most every ``every`` seconds, in its own short transaction (the
    page polls them); ``beat`` writes the heartbeat alone. Only while the claim is ours."""

    KEYS = ("phase", "elapsed", "matched", "objective", "bound")

    def __init__(self, engine: Engine, round_id: int, token: str, every: float) -> None:
        self.engine, self.round_id, self.token, self.every = engine, round_id, token, every
        self.state: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()
        self.last = float("-inf")  # the first report is written at once
        self.t0 = time.monotonic()
        self.writes = 0

    def __call__(self, info: dict[str, Any]) -> None:
        try:
            with self.lock:
                for k in self.KEYS:
                    if k in info and info[k] is not None:
                        self.state[k] = _plain(info[k])
                due = time.monotonic() - self.last >= self.every
            if due:
                self.flush()
        except Exception:  # noqa: BLE001 - progress must never break the solve
            log.exception("could not write solve progress of round %s", self.round_id)

    def update(self, **values: Any) -> None:
        with self.lock:
            self.state.update({k: _plain(v) for k, v in values.items()})
        self.flush()

    def _where(self, table: Table) -> tuple[ColumnElement[bool], ...]:
        return (table.c.id == self.round_id, table.c.status == "solving",
                table.c.worker == self.token)

    def flush(self) -> bool:
        with self.lock:
            snapshot = dict(self.state)
            snapshot.setdefault("elapsed", round(time.monotonic() - self.t0, 1))
            self.last = time.monotonic()
        t = cast(Table, Round.__table__)
        with self.write_lock, self.engine.begin() as conn:
            n = conn.execute(update(t).where(*self._where(t))
                             .values(progress=snapshot, heartbeat_at=utcnow())).rowcount
        self.writes += 1
        return n == 1

    def beat(self) -> None:
        t = cast(Table, Round.__table__)
        try:
            with self.write_lock, self.engine.begin() as conn:
                conn.execute(update(t).where(*self._where(t)).values(heartbeat_at=utcnow()))
        except Exception:  # noqa: BLE001 - the next beat tries again
            log.exception("could not write the heartbeat of round %s", self.round_id)


class _Heartbeat:
    """A thread beating while the solver works (the solver may be silent for a while)."""

    def __init__(self, writer: ProgressWriter, every: float) -> None:
        self.writer, self.every = writer, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"beat-{writer.round_id}",
                                       daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            self.writer.beat()

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


class InvalidSolution(RuntimeError):
    pass


def _empty_solution(inst: solver.Instance) -> solver.Solution:
    return solver.Solution(pairs=[], infeasible_locks=[], stats=solver.Stats(status="EMPTY"),
                           unmatched=[solver.Unmatched(m.id, "no_eligible_mentor")
                                      for m in inst.mentees])


def _finish(round_id: int, token: str, **values: Any) -> bool:
    """Switch a round we still hold (status solving, our token) to its final state."""
    res = db.session.execute(
        update(Round).where(Round.id == round_id, Round.status == "solving",
                            Round.worker == token)
        .values(finished_at=utcnow(), updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False))
    return _rowcount(res) == 1


def solve_claimed(round_id: int, token: str) -> str:
    """Solve a round this worker claimed: rows -> Instance, solve with the round's time limit
    (progress written as it goes), validate, then proposals and the status change in ONE
    transaction. A crash leaves the old proposals and a failed, re-runnable round.
    Returns solved | failed | abandoned (the claim was taken away meanwhile)."""
    writer = ProgressWriter(db.engine, round_id, token, settings().rounds.progress_write_seconds)
    t0 = time.monotonic()
    try:
        rnd = db.session.get_one(Round, round_id)
        mentees, mentors = selection(rnd)
        hint = [solver.Link(str(p.mentee_id), str(p.mentor_id),
                            p.weekday_utc * 1440 + p.start_minute_utc) for p in rnd.proposals]
        built = solver_bridge.build(rnd, mentees, mentors, hint)
        db.session.commit()  # no read transaction stays open while the solver works
        inst = built.instance
        writer.update(phase="solving", mentees=len(built.selected), mentors=len(inst.mentors),
                      elapsed=round(time.monotonic() - t0, 1))
        with _Heartbeat(writer, settings().rounds.heartbeat_seconds):
            if inst.mentees and inst.mentors:
                sol = solver.solve(inst, built.config, progress=writer)
            else:
                sol = _empty_solution(inst)
        problems = (solver.validate(inst, sol, built.config) if inst.mentors else []) \
            + solver_bridge.check_solution(built, sol)
        if problems:
            raise InvalidSolution("; ".join(problems[:5]))
        stats = sol.stats.to_dict()
        elapsed = round(time.monotonic() - t0, 2)
        if not _finish(round_id, token, status="solved", error=None):
            db.session.rollback()
            return "abandoned"
        db.session.expire_all()
        rnd = db.session.get_one(Round, round_id)
        infeasible = solver_bridge.write_solution(rnd, built, sol)
        matched = len(rnd.proposals)
        rnd.stats = {k: stats.get(k) for k in ("status", "objective", "bound", "gap",
                                               "wall_time", "matched_priority")} | {
            "matched": matched, "infeasible": infeasible, "mentees": len(built.selected),
            "kept": len(built.live), "mentors": len(inst.mentors), "elapsed": elapsed,
            # the participants as solved: the page of the approved round keeps showing them
            "counts": live_counts(rnd)}
        rnd.progress = {"phase": "done", "elapsed": elapsed, "matched": matched,
                        "objective": stats.get("objective"), "bound": stats.get("bound")}
        audit.record(None, "round.solved", rnd, programme_id=rnd.programme_id,
                     matched=matched, status=stats.get("status"))
        db.session.commit()
        return "solved"
    except Exception as exc:  # noqa: BLE001 - any crash must leave the round re-runnable
        db.session.rollback()
        log.exception("solve of round %s failed", round_id)
        code = "invalid_solution" if isinstance(exc, InvalidSolution) else "solver_error"
        detail = f"{type(exc).__name__}: {exc}"[:500]
        if _finish(round_id, token, status="failed", error=code,
                   progress={"phase": "failed", "elapsed": round(time.monotonic() - t0, 2)}):
            prog_id = db.session.scalar(select(Round.programme_id).where(Round.id == round_id))
            audit.record(None, "round.failed", None, programme_id=prog_id, round_id=round_id,
                         error=code, detail=detail)
        db.session.commit()
        return "failed"


def progress_of(rnd: Round) -> dict[str, Any]:
    """What the page shows about a solve: status, live progress, final statistics."""
    p = dict(rnd.progress or {})
    if rnd.status == "solving" and rnd.started_at:
        p["elapsed"] = round((datetime.now(UTC) - rnd.started_at).total_seconds(), 1)
    stats = dict(rnd.stats or {})
    if rnd.status not in ("solved", "approved"):
        matched = p.get("matched", 0)
    elif "matched" in stats:
        matched = stats["matched"]
    else:  # counted, never loaded: a national round has thousands of proposals
        matched = db.session.scalar(select(func.count(Proposal.id))
                                    .where(Proposal.round_id == rnd.id)) or 0
    waited = (datetime.now(UTC) - rnd.queued_at).total_seconds() \
        if rnd.status == "queued" and rnd.queued_at else 0
    return {"status": rnd.status, "progress": p, "stats": stats, "error": rnd.error,
            "matched": matched,
            # nobody picked it up: is the scheduler (mentormatch scheduler) running?
            "waiting_long": waited > settings().rounds.stalled_after_seconds}


# --------------------------------------------------------------------------- adjusting


def _participant(rnd: Round, person_id: int, role: str) -> Participant:
    part = db.session.scalar(select(Participant).where(
        Participant.programme_id == rnd.programme_id, Participant.person_id == person_id,
        Participant.role == role, Participant.active.is_(True)))
    if part is None:
        if role == "mentee":
            raise RoundError("not_mentee", _l("That person is not a mentee of this programme."))
        raise RoundError("not_mentor", _l("That person is not a mentor of this programme."))
    return part


def _has_live_pair(rnd: Round, mentee_id: int) -> bool:
    return db.session.scalar(select(Pair.id).where(
        Pair.programme_id == rnd.programme_id, Pair.mentee_id == mentee_id,
        Pair.status.in_(LIVE)).limit(1)) is not None


def _proposed(rnd: Round, mentee_id: int, mentor_id: int) -> bool:
    return any(p.mentee_id == mentee_id and p.mentor_id == mentor_id for p in rnd.proposals)


def _set(rnd: Round, mentee_id: int, mentor_id: int, kind: str, actor: Actor,
         reason: str | None = None) -> RoundConstraint:
    row = next((c for c in rnd.constraints
                if c.mentee_id == mentee_id and c.mentor_id == mentor_id), None)
    if row is not None and row.kind != kind:
        if row.kind == "forbid":
            raise RoundError("forbidden", _l("This pair is forbidden; remove the forbid first."))
        raise RoundError("locked", _l("This pair is locked; remove the lock first."))
    # Already reflected by the current proposals: no re-solve needed.
    reflected = (rnd.status == "solved" and reason is None
                 and _proposed(rnd, mentee_id, mentor_id) == (kind == "lock"))
    _touch(rnd, stale=not reflected)
    if kind == "lock":  # one lock per mentee: a new lock replaces the old one
        for c in list(rnd.constraints):
            if c.kind == "lock" and c.mentee_id == mentee_id and c.mentor_id != mentor_id:
                rnd.constraints.remove(c)
    if row is None:
        row = RoundConstraint(mentee_id=mentee_id, mentor_id=mentor_id)
        rnd.constraints.append(row)
    row.kind, row.override_reason = kind, reason
    row.created_by_id, row.created_at = getattr(actor, "id", None), utcnow()
    db.session.flush()
    audit.record(actor, f"round.{kind}", rnd, programme_id=rnd.programme_id,
                 mentee_id=mentee_id, mentor_id=mentor_id, override_reason=reason)
    return row


NO_FREE_SLOT = _l("The mentor has no free common time left for this mentee (their other pairs "
                  "and locks take it).")


def _check_room(rnd: Round, mentee_id: int, mentor_id: int) -> str | None:
    room = solver_bridge.room_for(rnd, mentee_id, mentor_id)
    if room == "no_slot":
        raise RoundError("no_free_slot", NO_FREE_SLOT)
    return room


def lock(rnd: Round, mentee_id: int, mentor_id: int, actor: Actor) -> RoundConstraint:
    _participant(rnd, mentee_id, "mentee")
    _participant(rnd, mentor_id, "mentor")
    if _has_live_pair(rnd, mentee_id):
        raise RoundError("has_pair", _l("This mentee already has a mentor in this programme."))
    already = any(c.kind == "lock" and c.mentee_id == mentee_id and c.mentor_id == mentor_id
                  for c in rnd.constraints)
    if not already and _check_room(rnd, mentee_id, mentor_id) == "capacity":
        raise RoundError("capacity_full", _l("The mentor has no place left."))
    return _set(rnd, mentee_id, mentor_id, "lock", actor)


def forbid(rnd: Round, mentee_id: int, mentor_id: int, actor: Actor) -> RoundConstraint:
    _participant(rnd, mentee_id, "mentee")
    _participant(rnd, mentor_id, "mentor")
    return _set(rnd, mentee_id, mentor_id, "forbid", actor)


def clear(rnd: Round, constraint_id: int, actor: Actor) -> None:
    row = next((c for c in rnd.constraints if c.id == constraint_id), None)
    if row is None:
        raise RoundError("no_such_adjustment", _l("No such adjustment."))
    _touch(rnd, stale=True)
    rnd.constraints.remove(row)
    audit.record(actor, "round.clear", rnd, programme_id=rnd.programme_id,
                 mentee_id=row.mentee_id, mentor_id=row.mentor_id, kind=row.kind)
    db.session.flush()


@dataclass
class HandVerdict:
    """Would setting this pair by hand be accepted? ``code`` is "fits", "needs_override"
    (accepted with a written reason; ``violations`` names what it waives) or the refusal's
    code; ``message`` is the refusal's (or the warning's) own words."""
    mentor_id: int
    code: str
    message: Any = ""  # lazily translated
    violations: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.code in ("fits", "needs_override")


def _verdict(mentor_id: int, check: solver_bridge.PairCheck | None,
             forbidden: bool, has_pair: bool, policy: dict[str, Any]) -> HandVerdict:
    """The one decision behind a hand-set pair (``set_by_hand``) and the mentor list that
    tells the coordinator beforehand (``hand_verdicts``)."""
    def refuse(err: RoundError) -> HandVerdict:
        return HandVerdict(mentor_id, err.code, err.message)

    if check is None:
        return refuse(RoundError("not_mentor", _l(
            "That person is not a mentor of this programme.")))
    if forbidden:
        return refuse(RoundError("forbidden", _l(
            "This pair is forbidden; remove the forbid first.")))
    if has_pair:
        return refuse(RoundError("has_pair", _l(
            "This mentee already has a mentor in this programme.")))
    violations = [v for v in check.violations if v != "common_slot"]
    if not check.common:
        return refuse(RoundError("no_common_time", _l(
            "These two people have no common free time.")))
    hard = [v for v in violations if v not in policy["overridable"]]
    if hard:
        return refuse(RoundError("policy", _l(
            "The programme's policy does not allow overriding: %(rules)s.",
            rules=reason_words.rule_names(hard))))
    if check.room == "no_slot":
        return refuse(RoundError("no_free_slot", NO_FREE_SLOT))
    if check.room == "capacity":
        if not policy["capacity_override"]:
            return refuse(RoundError("capacity_full", _l("The mentor has no place left.")))
        violations.append("capacity")
    if violations:
        return HandVerdict(mentor_id, "needs_override",
                           NeedsOverride(violations).message, violations)
    return HandVerdict(mentor_id, "fits")


def hand_verdicts(rnd: Round, mentee_id: int, mentor_ids: list[int] | None = None
                  ) -> list[HandVerdict]:
    """For one mentee, what setting each mentor by hand would answer (all the programme's
    mentors unless ``mentor_ids``), the accepted first (no reason needed before a reason
    needed), then the refused; within each, in the order given. A bounded number of
    queries whatever the number of mentors."""
    _participant(rnd, mentee_id, "mentee")
    checks = solver_bridge.check_pairs(rnd, mentee_id, mentor_ids)
    ids = mentor_ids if mentor_ids is not None else list(checks)
    forbidden = {c.mentor_id for c in rnd.constraints
                 if c.kind == "forbid" and c.mentee_id == mentee_id}
    has_pair = _has_live_pair(rnd, mentee_id)
    policy = programmes.override_policy(rnd.programme)
    out = [_verdict(mid, checks.get(mid), mid in forbidden, has_pair, policy)
           for mid in ids]
    rank = {"fits": 0, "needs_override": 1}
    return sorted(out, key=lambda v: rank.get(v.code, 2))


def set_by_hand(rnd: Round, mentee_id: int, mentor_id: int, actor: Actor,
                override_reason: str = "") -> tuple[RoundConstraint, list[str]]:
    """Pair two people by hand. Hard-rule breaches (and a full mentor, where the policy allows
    it) need a written reason; only what the programme's override policy names may be waived.
    A pair with no free common time, or a forbidden pair, is refused. The decision is
    ``hand_verdicts``' (the mentor list shows it before the coordinator asks)."""
    _participant(rnd, mentee_id, "mentee")
    _participant(rnd, mentor_id, "mentor")
    verdict = hand_verdicts(rnd, mentee_id, [mentor_id])[0]
    if verdict.code == "needs_override":
        reason = override_reason.strip()[:500]
        if not reason:
            raise NeedsOverride(verdict.violations)
        return _set(rnd, mentee_id, mentor_id, "lock", actor, reason), verdict.violations
    if verdict.code != "fits":
        raise RoundError(verdict.code, verdict.message)
    return _set(rnd, mentee_id, mentor_id, "lock", actor, None), []


# --------------------------------------------------------------------------- approval


def first_start(prog: Programme, weekday_utc: int, minute_utc: int,
                today: datetime | None = None) -> datetime:
    """The first session: the pair's weekly slot on or after tomorrow and the programme start."""
    now = today or datetime.now(UTC)
    day = max(now.date() + timedelta(days=1), prog.start_date)
    day += timedelta(days=(weekday_utc - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minute_utc)


def sessions_before_end(prog: Programme, first: datetime, tz: str) -> int:
    """How many of the programme's sessions (holidays skipped, as the series plans them)
    start on or before its end date."""
    plan = plan_occurrences(first, prog.interval_weeks, prog.session_count, tz)
    zone = ZoneInfo(tz)
    return sum(1 for s in plan.starts if s.astimezone(zone).date() <= prog.end_date)


class SessionFit:
    """How many sessions a new pair with this weekly slot (and its mentor's time zone) really
    gets if approved ``today``: its first session and the count that fits before the
    programme ends. The one rule both the approval question and the approval use; memoised,
    as a round's pairs share a few slots and zones."""

    def __init__(self, prog: Programme, today: datetime | None = None) -> None:
        self.prog, self.today = prog, today
        self.seen: dict[tuple[datetime, str], int] = {}

    def __call__(self, weekday_utc: int, minute_utc: int, tz: str) -> tuple[datetime, int]:
        first = first_start(self.prog, weekday_utc, minute_utc, self.today)
        key = (first, tz)
        if key not in self.seen:
            self.seen[key] = sessions_before_end(self.prog, first, tz)
        return first, self.seen[key]


@dataclass
class Approval:
    created: list[Pair] = field(default_factory=list)
    already: bool = False
    skipped: int = 0  # mentees that got a pair elsewhere since the solve
    short: list[tuple[Pair, int]] = field(default_factory=list)  # (pair, sessions that fit)
    no_time: list[Proposal] = field(default_factory=list)  # no session fits before the end
    notified: int = 0


def _names(ids: set[int]) -> dict[int, str]:
    return dict(db.session.execute(select(Person.id, Person.name).where(
        Person.id.in_(list(ids) or [0]))).all())


def _check_still_valid(rnd: Round) -> None:
    """At approval: no proposal breaks a forbid, no mentor is now over capacity or double
    booked because another round was approved since this one was solved."""
    forbidden = {(c.mentee_id, c.mentor_id) for c in rnd.constraints if c.kind == "forbid"}
    bad = [p for p in rnd.proposals if (p.mentee_id, p.mentor_id) in forbidden]
    if bad:
        names = _names({p.mentee_id for p in bad} | {p.mentor_id for p in bad})
        raise RoundError("forbidden_proposal", _l(
            "A proposed pair is forbidden now (%(pairs)s); re-solve before approving.",
            pairs=", ".join(f"{names[p.mentee_id]} – {names[p.mentor_id]}" for p in bad)))
    prog = rnd.programme
    mentor_ids = sorted({p.mentor_id for p in rnd.proposals})
    live = solver_bridge.live_pairs(prog.id, mentor_ids)
    caps = dict(db.session.execute(select(Participant.person_id, func.coalesce(
        Participant.capacity, prog.default_capacity)).where(
        Participant.programme_id == prog.id, Participant.role == "mentor",
        Participant.active.is_(True), Participant.person_id.in_(mentor_ids or [0]))).all())
    policy = programmes.override_policy(prog)
    live_mentees = {p.mentee_id for p, _s in live}
    cfg = solver_bridge.solver_config(rnd)
    for mid in mentor_ids:
        new = [p for p in rnd.proposals if p.mentor_id == mid
               and p.mentee_id not in live_mentees]
        mine = [(p, s) for p, s in live if p.mentor_id == mid]
        over = len(new) + len(mine) > caps.get(mid, 0)
        manual_ok = policy["capacity_override"] and all(p.manual for p in new)
        clash = any(s is not None and solver_bridge.overlap(
            p.weekday_utc * 1440 + p.start_minute_utc, s, cfg) for p in new for _x, s in mine)
        if mid not in caps or (over and not manual_ok) or clash:
            name = _names({mid}).get(mid, "?")
            raise RoundError("changed_since", _l(
                "%(name)s's pairs changed since this round was solved (another round, a "
                "withdrawal); re-solve before approving.", name=name))


def _check_busy(rnd: Round, today: datetime | None) -> None:
    """At approval: no planned session of a proposed pair may fall on a time its mentor or
    mentee already holds in another programme (one calendar per person). Refused with the
    clashes listed; re-solving (which avoids that busy time) clears them."""
    prog = rnd.programme
    props = list(rnd.proposals)
    if not props:
        return
    zones = {p.id: p.timezone for p in db.session.scalars(select(Person).where(
        Person.id.in_({p.mentor_id for p in props} | {p.mentee_id for p in props})))}
    length = timedelta(minutes=prog.session_minutes)
    plans: dict[tuple[datetime, str], list[datetime]] = {}
    planned: list[tuple[int, datetime, datetime]] = []
    for prop in props:
        first = first_start(prog, prop.weekday_utc, prop.start_minute_utc, today)
        key = (first, zones.get(prop.mentor_id, "Asia/Jakarta"))
        if key not in plans:
            n = sessions_before_end(prog, first, key[1])
            plans[key] = [s.astimezone(UTC) for s in plan_occurrences(
                first, prog.interval_weeks, n, key[1]).starts] if n else []
        for s in plans[key]:
            planned += [(prop.mentor_id, s, s + length), (prop.mentee_id, s, s + length)]
    if not planned:
        return
    taken = busy.busy_intervals({pid for pid, _s, _e in planned},
                                start=min(s for _p, s, _e in planned),
                                end=max(e for _p, _s, e in planned),
                                exclude_programme_id=prog.id)
    found = busy.clashes(planned, taken)
    if not found:
        return
    names = _names({c.person_id for c in found})
    locale = str(get_locale() or "id")
    shown = [f"{names.get(c.person_id, '?')} "
             f"{format_local(c.start, zones.get(c.person_id) or 'Asia/Jakarta', locale)} "
             f"({c.busy.programme})" for c in found[:8]]
    if len(found) > 8:
        shown.append("…")
    raise RoundError("busy_clash", _l(
        "Some proposed sessions fall on times already taken in another programme: "
        "%(clashes)s. Re-solve the round before approving.", clashes="; ".join(shown)))


def approve(rnd: Round, actor: Actor, *, invite: bool = True,
            today: datetime | None = None) -> Approval:
    """Publish: create the pairs and their session series + invites. Idempotent: a second
    call, or a racing double click, creates nothing (status switch guarded in SQL, unique
    live pair per mentee). Refused when the round changed after it was solved."""
    if rnd.status == "approved":
        return Approval(already=True)
    if rnd.status == "stale":
        raise RoundError("stale", _l(
            "The round changed after it was solved; re-solve before approving."))
    if rnd.status != "solved":
        raise RoundError("not_solved", _l("Only a solved round can be approved."))
    if not db.session.scalar(select(exists().where(*_pending(rnd)))):
        raise RoundError("nothing_to_approve", _l(
            "This round has no proposed pair to publish, so there is nothing to approve. "
            "Change the filters, the criteria or the participants and solve it again."))
    _check_still_valid(rnd)
    _check_busy(rnd, today)
    switched = _rowcount(db.session.execute(
        update(Round).where(Round.id == rnd.id, Round.status == "solved")
        .values(status="approved", approved_by_id=getattr(actor, "id", None),
                approved_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)))
    db.session.expire(rnd)
    if not switched:
        if rnd.status == "approved":
            return Approval(already=True)
        raise RoundError("not_solved", _l("Only a solved round can be approved."))
    prog = rnd.programme
    proposals = list(rnd.proposals)
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(
        [x.mentee_id for x in proposals] + [x.mentor_id for x in proposals] or [0])))}
    live = set(db.session.scalars(select(Pair.mentee_id).where(
        Pair.programme_id == rnd.programme_id, Pair.status.in_(LIVE))))
    plan = []
    fit = SessionFit(prog, today)
    for prop in proposals:
        if prop.mentee_id in live:
            continue
        first, n = fit(prop.weekday_utc, prop.start_minute_utc, people[prop.mentor_id].timezone)
        plan.append((prop, first, n))
    if plan and all(n == 0 for _p, _f, n in plan):
        raise RoundError("programme_over", _l(
            "No session fits before the programme ends; extend its end date first."))
    focus = solver_bridge.focus_of([p.mentee_id for p, _f, _n in plan])
    result = Approval(skipped=len(proposals) - len(plan))
    now = utcnow()
    rows = []
    for prop, _first, n in plan:
        if n == 0:
            result.no_time.append(prop)
            continue
        rows.append({
            "programme_id": rnd.programme_id, "round_id": rnd.id, "mentor_id": prop.mentor_id,
            "mentee_id": prop.mentee_id, "status": "invited",
            "focus": focus.get(prop.mentee_id, []),
            "mode": prop.mode, "weekly_slot_utc": prop.weekday_utc * 1440 + prop.start_minute_utc,
            "created_at": now, "updated_at": now})
    # one multi-row INSERT, then one SELECT for the rows (SQLite cannot return the ids of a
    # multi-row INSERT in order, and the ORM would fall back to one INSERT per pair)
    if rows:
        db.session.execute(insert(Pair).execution_options(render_nulls=True), rows)  # 1 INSERT
    made = {p.mentee_id: p for p in db.session.scalars(select(Pair).where(
        Pair.programme_id == rnd.programme_id, Pair.round_id == rnd.id,
        Pair.status == "invited"))}
    series_plan: list[tuple[Pair, datetime, int]] = []
    for prop, first, n in plan:
        if n == 0:
            continue
        pair = made[prop.mentee_id]  # its programme, mentor, mentee: already in the session
        result.created.append(pair)
        series_plan.append((pair, first, n))
        if n < prog.session_count:
            result.short.append((pair, n))
    if invite:
        # all series, sessions, attendees and invitations in a few multi-row statements
        invites.create_series_many([
            invites.NewSeries(pair, first, n, location=pair.mentor.location.name
                              if pair.mode == "in_person" and pair.mentor.location is not None
                              else None)
            for pair, first, n in series_plan], actor=actor)
    if rnd.kind == "rematch":
        result.notified = _tell_rematched(rnd, result.created)
    rnd.stats = {**(rnd.stats or {}), "published": {
        "pairs": len(result.created), "skipped": result.skipped,
        "short": [{"pair_id": p.id, "sessions": n} for p, n in result.short],
        "no_time": [p.mentee_id for p in result.no_time], "notified": result.notified}}
    audit.record(actor, "round.approve", rnd, programme_id=rnd.programme_id,
                 pairs=len(result.created), skipped=result.skipped,
                 short=len(result.short), notified=result.notified)
    db.session.flush()
    return result


def previous_mentors(programme_id: int, mentee_ids: list[int]) -> dict[int, Person]:
    """Each mentee's latest ended / declined mentor in the programme (for a rematch)."""
    rows = db.session.scalars(select(Pair).options(joinedload(Pair.mentor)).where(
        Pair.programme_id == programme_id, Pair.mentee_id.in_(mentee_ids or [0]),
        Pair.status.not_in(LIVE)).order_by(Pair.id)).all()
    return {p.mentee_id: p.mentor for p in rows}


def _tell_rematched(rnd: Round, pairs: list[Pair]) -> int:
    """A rematch tells each mentee their new mentor and each new mentor their new mentee
    (all the notices written with one multi-row INSERT)."""
    before = previous_mentors(rnd.programme_id, [p.mentee_id for p in pairs])
    notices = []
    with invites.mail_context():
        for pair in pairs:
            for person, template, ctx in (
                    (pair.mentee, "rematch_mentee",
                     {"mentor": pair.mentor, "previous": before.get(pair.mentee_id)}),
                    (pair.mentor, "rematch_mentor", {"mentee": pair.mentee})):
                notices.append(mailer.prepare_email(
                    person.email, template, locale=person.locale or "id",
                    dedupe_key=f"rematch:{pair.id}:{template.removeprefix('rematch_')}",
                    person=person, programme=rnd.programme, pair=pair, **ctx))
    mailer.enqueue_many(notices)
    return len(notices)
