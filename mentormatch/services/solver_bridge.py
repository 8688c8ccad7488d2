"""Rows <-> the pure solver: build a `solver.Instance` from a round, write a `Solution` back.

Pairs that already exist (live pairs of the programme) and hand-set pairs that break a rule by
the coordinator's decision are given to the solver as *fixed* pairs exempt from every pair rule
(`solver.Link.exempt`): they take their mentor's capacity and weekly slot, so nothing new is
put on top of them. Sessions of other programmes are each person's `busy` time. The solver's
reasons are stored as its codes and parameters; pages word them (`services/reason_words.py`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

import solver
from solver.eligibility import Prepared, pair_mode
from solver.scoring import reason_codes, score_pair
from solver.slots import WEEK

from ..extensions import db
from ..models import (
    MentorPreference,
    Pair,
    Participant,
    Person,
    Programme,
    Proposal,
    Round,
    RoundConstraint,
    SessionSeries,
    UnmatchedMentee,
)
from ..settings import settings
from . import busy, programmes, session_times

LIVE = Pair.LIVE_STATES
WEIGHT_KEYS = {  # config / criteria name -> solver.Weights field
    "gap_coverage": "gap",
    "same_location": "same_city",
    "same_unit": "same_unit",
    "other_unit": "other_unit",
    "grade_distance": "grade_distance",
    "preference": "preference",
}
RULE_KEYS = ("no_direct_supervisor", "no_repeat_pairs", "in_person_same_city")


def default_criteria() -> dict[str, Any]:
    cfg = settings().solver
    return {
        "min_grade_steps": cfg.min_grade_steps,
        **{k: bool(getattr(cfg, k)) for k in RULE_KEYS},
        "weights": {k: float(v) for k, v in cfg.weights.model_dump().items() if k in WEIGHT_KEYS},
        "time_limit_seconds": cfg.time_limit_seconds,
    }


def criteria_of(rnd: Round | None) -> dict[str, Any]:
    base = default_criteria()
    given = (rnd.criteria if rnd is not None else None) or {}
    out = {**base, **{k: v for k, v in given.items() if k != "weights"}}
    out["weights"] = {**base["weights"], **(given.get("weights") or {})}
    return out


def config_for(prog: Programme, criteria: dict[str, Any]) -> solver.SolverConfig:
    c = criteria
    seed = settings().solver.seed
    weights: dict[str, Any] = {WEIGHT_KEYS[k]: float(v) for k, v in c["weights"].items()}
    return solver.SolverConfig(
        min_grade_gap=int(c["min_grade_steps"]),
        rules={
            "grade": int(c["min_grade_steps"]) > 0,
            "supervisor": bool(c["no_direct_supervisor"]),
            "no_repeat": bool(c["no_repeat_pairs"]),
            "same_city_in_person": bool(c["in_person_same_city"]),
        },
        session_minutes=prog.session_minutes,
        weights=solver.Weights(**weights),
        time_limit=float(c["time_limit_seconds"]),
        seed=seed,
        working_hours=session_times.solver_hours(),  # the app's one definition of the hours
    )


def solver_config(rnd: Round) -> solver.SolverConfig:
    return config_for(rnd.programme, criteria_of(rnd))


# --------------------------------------------------------------------------- rows -> solver


def _mode(person: Person, policy: str) -> str:
    return policy if policy in ("online", "in_person") else (person.mode or "either")


def _common(p: Person, policy: str, taken: tuple[tuple[int, int], ...]) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "grade": p.grade_rank or 0,
        "unit": p.unit.name if p.unit else "",
        "city": p.city or "",
        "tz": p.timezone,
        "mode": _mode(p, policy),
        "levels": {pc.competency.code: pc.current_level for pc in p.competencies},
        "availability": tuple(
            solver.Window(w.weekday, w.start_minute, w.end_minute) for w in p.availability
        ),
        "busy": taken,
    }


def to_mentor(part: Participant, default_capacity: int, policy: str,
              taken: tuple[tuple[int, int], ...] = ()) -> solver.Mentor:
    """``taken``: the person's weekly busy time (``busy_of``)."""
    common = _common(part.person, policy, taken)
    if part.person.kind == "external":
        common["grade"] = None  # partners hold no golongan: the seniority rule does not apply
    return solver.Mentor(**common, capacity=part.capacity or default_capacity,
                         max_sessions_per_day=part.max_sessions_per_day)


def to_mentee(part: Participant, policy: str, prefs: tuple[str, ...] = (),
              taken: tuple[tuple[int, int], ...] = ()) -> solver.Mentee:
    p = part.person
    return solver.Mentee(
        **_common(p, policy, taken),
        required={pc.competency.code: pc.required_level for pc in p.competencies
                  if pc.required_level},
        supervisor_id=str(p.supervisor_id) if p.supervisor_id else None,
        preferences=prefs,
        priority=bool(part.is_priority or p.is_priority),
    )


def _person_options() -> tuple[LoaderOption, ...]:
    return (joinedload(Participant.person).selectinload(Person.competencies),
            joinedload(Participant.person).selectinload(Person.availability))


def load_participants(programme_id: int, person_ids: list[int] | None = None,
                      role: str | None = None) -> list[Participant]:
    """Active participants with their people, competencies and availability: four queries
    whatever the size of the programme."""
    q = select(Participant).where(Participant.programme_id == programme_id,
                                  Participant.active.is_(True)).options(*_person_options())
    if role:
        q = q.where(Participant.role == role)
    if person_ids is not None:
        q = q.where(Participant.person_id.in_(person_ids or [0]))
    return list(db.session.scalars(q).unique())


def minute_of_week(at: datetime) -> int:
    """UTC minute of the week (Monday 00:00 UTC = 0) of an aware datetime."""
    u = at.astimezone(UTC)
    return u.weekday() * 1440 + u.hour * 60 + u.minute


def live_pairs(programme_id: int, mentor_ids: list[int] | None = None
               ) -> list[tuple[Pair, int | None]]:
    """Invited and active pairs with their weekly UTC slot (from the active series, which
    follows a moved series, else as approved). Two queries."""
    q = select(Pair).where(Pair.programme_id == programme_id, Pair.status.in_(LIVE))
    if mentor_ids is not None:
        q = q.where(Pair.mentor_id.in_(mentor_ids or [0]))
    pairs = list(db.session.scalars(q.order_by(Pair.id)))
    starts: dict[int, datetime] = {}
    if pairs:
        for pair_id, first in db.session.execute(
                select(SessionSeries.pair_id, SessionSeries.first_start).where(
                    SessionSeries.pair_id.in_([p.id for p in pairs]),
                    SessionSeries.status == "active").order_by(SessionSeries.id)):
            starts[pair_id] = first
    out = []
    for p in pairs:
        slot = minute_of_week(starts[p.id]) if p.id in starts else p.weekly_slot_utc
        out.append((p, slot))
    return out


# --------------------------------------------------------------------------- busy time
# One calendar per person: sessions of other programmes are busy time, given to the solver as
# each person's weekly ``busy`` intervals (it keeps every new session off them).


def busy_of(prog: Programme, person_ids: list[int]) -> dict[int, tuple[tuple[int, int], ...]]:
    """Each person's sessions of other programmes during this programme's period, as the
    weekly UTC times on which they fall (so no occurrence of a new series collides)."""
    start = datetime.combine(prog.start_date, time.min, UTC)
    end = datetime.combine(prog.end_date, time.max, UTC) + timedelta(days=1)
    taken = busy.busy_intervals(person_ids, start=start, end=end, exclude_programme_id=prog.id)
    return {pid: tuple(sorted({iv for b in items for iv in solver.weekly_busy(
        minute_of_week(b.start), int((b.end - b.start).total_seconds() // 60))}))
        for pid, items in taken.items()}


def with_live_pairs(mentor: solver.Mentor, live: list[tuple[Pair, int | None]],
                    cfg: solver.SolverConfig
                    ) -> tuple[solver.Mentor, list[tuple[Pair, int | None]], int]:
    """The mentor as the solver sees them next to their live pairs: (the mentor, the live
    pairs it is given as fixed pairs, how many others only take a place); the solver decides
    (`solver.keep_booked`)."""
    kb = solver.keep_booked(mentor, [s for _p, s in live], cfg)
    return kb.mentor, [live[k] for k in kb.kept], len(kb.blocked)


@dataclass
class Built:
    instance: solver.Instance
    config: solver.SolverConfig
    selected: set[int]  # real mentees the solver may pair
    # Plain values only: the build's session is committed before the solve (no reloads).
    live: dict[str, int] = field(default_factory=dict)  # mentee id -> mentor of a live pair
    live_slots: dict[int, list[int]] = field(default_factory=dict)  # mentor -> UTC minutes
    manual: dict[str, str] = field(default_factory=dict)  # mentee id -> override reason
    capacity: dict[int, int] = field(default_factory=dict)  # mentor -> allowed pairs in all
    infeasible: list[dict[str, Any]] = field(default_factory=list)  # refused before solving
    hinted: int = 0


def build(rnd: Round, mentee_ids: list[int], mentor_ids: list[int],
          hint: list[solver.Link] | None = None) -> Built:
    """The solver's view of a round: selected mentees, the mentors with their live and
    hand-set pairs fixed, locks, forbids, earlier pairs, preferences. A bounded number of
    queries (no per-person loading)."""
    prog = rnd.programme
    cfg = solver_config(rnd)
    policy = programmes.override_policy(prog)
    parts = load_participants(prog.id)
    mentor_parts = {p.person_id: p for p in parts if p.role == "mentor"}
    mentee_parts = {p.person_id: p for p in parts if p.role == "mentee"}
    live = live_pairs(prog.id)
    live_mentees = {p.mentee_id for p, _s in live}
    selected = [pid for pid in mentee_ids if pid in mentee_parts and pid not in live_mentees]
    prefs: dict[int, list[str]] = {}
    if prog.preferences_enabled:
        for mp in db.session.scalars(select(MentorPreference).where(
                MentorPreference.programme_id == prog.id).order_by(MentorPreference.rank)):
            prefs.setdefault(mp.mentee_id, []).append(str(mp.mentor_id))
    cons = list(rnd.constraints)
    mentor_set = {pid for pid in mentor_ids if pid in mentor_parts}
    manual: dict[int, RoundConstraint] = {}
    infeasible: list[dict[str, Any]] = []
    for c in cons:
        if c.kind != "lock" or not c.override_reason or c.mentee_id in live_mentees:
            continue
        if c.mentor_id not in mentor_set or c.mentee_id not in mentee_parts:
            infeasible.append({"kind": "manual", "mentee_id": c.mentee_id,
                               "mentor_id": c.mentor_id, "code": "not_selected"})
            continue
        manual[c.mentee_id] = c
    built = Built(instance=None, config=cfg, selected=set())  # type: ignore[arg-type]

    by_mentor_live: dict[int, list[tuple[Pair, int | None]]] = defaultdict(list)
    for p, slot in live:
        by_mentor_live[p.mentor_id].append((p, slot))
    by_mentor_manual: dict[int, list[RoundConstraint]] = defaultdict(list)
    for c in manual.values():
        by_mentor_manual[c.mentor_id].append(c)

    mentors: list[solver.Mentor] = []
    kept: list[solver.Mentee] = []  # mentees of live and hand-set pairs (fixed, exempt)
    fixed: list[solver.Link] = []
    taken = busy_of(prog, [*mentor_set, *selected, *manual])
    for pid in sorted(mentor_set):
        base = to_mentor(mentor_parts[pid], prog.default_capacity, prog.mode_policy,
                         taken.get(pid, ()))
        mine = by_mentor_live.get(pid, [])
        built.live_slots[pid] = [s for _p, s in mine if s is not None]
        mentor, keep, blocked = with_live_pairs(base, mine, cfg)
        anyone = replace(mentor, capacity=len(mine) + len(by_mentor_manual.get(pid, [])) + 1)
        booked = [s for _p, s in keep]
        manual_keep: list[RoundConstraint] = []
        manual_mentees: list[solver.Mentee] = []
        for c in sorted(by_mentor_manual.get(pid, []), key=lambda c: c.id or 0):
            e = to_mentee(mentee_parts[c.mentee_id], prog.mode_policy,
                          taken=taken.get(c.mentee_id, ()))
            fits = solver.fit_check(anyone, [*manual_mentees, e], cfg, booked=booked).ok
            too_many = (len(keep) + blocked + len(manual_keep) + 1 > base.capacity
                        and not policy["capacity_override"])
            if not fits or too_many:
                infeasible.append({"kind": "manual", "mentee_id": c.mentee_id,
                                   "mentor_id": c.mentor_id,
                                   "code": "capacity" if too_many else "no_slot"})
                continue
            manual_keep.append(c)
            manual_mentees.append(e)
            sid = str(c.mentee_id)
            built.manual[sid] = c.override_reason or ""
            kept.append(e)
            fixed.append(solver.Link(sid, str(pid), exempt=solver.schema.EXEMPTABLE))
        for pair, slot in keep:
            sid = str(pair.mentee_id)
            built.live[sid] = pair.mentor_id
            # exempt from every pair rule, in its slot (or any start of the mentor's when the
            # pair has none yet); a mentee who has left the programme is known by id only
            part = mentee_parts.get(pair.mentee_id)
            kept.append(to_mentee(part, prog.mode_policy) if part is not None
                        else solver.Mentee(id=sid, grade=0))
            fixed.append(solver.Link(sid, str(pid), slot, exempt=solver.schema.EXEMPTABLE))
        n_fixed = len(keep) + len(manual_keep)
        capacity = max(base.capacity - blocked, n_fixed)
        built.capacity[pid] = capacity
        if capacity > 0:
            mentors.append(replace(mentor, capacity=capacity))
    kept_mentors = {int(m.id) for m in mentors}
    fixed_mentees = {int(s.id) for s in kept}
    mentees = [
        to_mentee(mentee_parts[pid], prog.mode_policy, tuple(prefs.get(pid, ())[:3]),
                  taken.get(pid, ()))
        for pid in selected if pid not in fixed_mentees
    ]
    built.selected = {int(m.id) for m in mentees}
    history = db.session.execute(select(Pair.mentee_id, Pair.mentor_id).where(
        Pair.mentee_id.in_(list(built.selected)), Pair.mentor_id.in_(list(kept_mentors)),
        or_(Pair.programme_id != prog.id, Pair.status.not_in(LIVE)))).all() \
        if built.selected and kept_mentors else []
    locks = []
    for c in cons:
        if c.kind != "lock" or c.override_reason or c.mentee_id in live_mentees \
                or c.mentee_id in fixed_mentees:
            continue
        if c.mentee_id not in built.selected or c.mentor_id not in kept_mentors:
            infeasible.append({"kind": "lock", "mentee_id": c.mentee_id,
                               "mentor_id": c.mentor_id, "code": "not_selected"})
            continue
        locks.append(solver.Link(str(c.mentee_id), str(c.mentor_id)))
    forbids = [solver.Link(str(c.mentee_id), str(c.mentor_id)) for c in cons
               if c.kind == "forbid" and c.mentee_id in built.selected]
    hints = [h for h in (hint or []) if h.mentee and int(h.mentee) in built.selected]
    built.hinted = len(hints)
    built.infeasible = infeasible
    built.instance = solver.Instance(
        mentors=tuple(mentors), mentees=tuple(mentees) + tuple(kept), locks=tuple(locks),
        forbids=tuple(forbids),
        previous_pairs=tuple(solver.Link(str(e), str(m)) for e, m in history),
        fixed=tuple(fixed), hint=tuple(hints),
    )
    return built


# --------------------------------------------------------------------------- one pair


def room_for(rnd: Round, mentee_id: int, mentor_id: int) -> str | None:
    """Can the mentor take this pair next to their live pairs and the round's other locks and
    hand-set pairs? None, or 'capacity' / 'no_slot' (``check_pairs`` decides)."""
    check = check_pairs(rnd, mentee_id, [mentor_id]).get(mentor_id)
    return "no_slot" if check is None else check.room


@dataclass
class PairCheck:
    """What the by-hand decision needs about one (mentee, mentor): the hard rules broken,
    the common-slot bitmask (0 = no common time) and the mentor's room (``room_for``)."""
    violations: list[str]
    common: int
    room: str | None


def check_pairs(rnd: Round, mentee_id: int, mentor_ids: list[int] | None = None
                ) -> dict[int, PairCheck]:
    """For one mentee against many mentors at once (all the programme's active mentors when
    ``mentor_ids`` is None): the hard rules each pair breaks, their common time and the
    mentor's room (as ``room_for``). A bounded number of queries, whatever the number of
    mentors; mentors not found are left out."""
    prog = rnd.programme
    cfg = solver_config(rnd)
    wanted = None if mentor_ids is None else [
        mentee_id, *mentor_ids,
        *(c.mentee_id for c in rnd.constraints if c.kind == "lock" and c.mentor_id in mentor_ids)]
    parts = {(p.person_id, p.role): p for p in load_participants(prog.id, wanted)}
    me = parts.get((mentee_id, "mentee"))
    if me is None:
        return {}
    ids = sorted(pid for (pid, role) in parts if role == "mentor"
                 and (mentor_ids is None or pid in mentor_ids) and pid != mentee_id)
    if not ids:
        return {}
    idset = set(ids)
    live_by: dict[int, list[tuple[Pair, int | None]]] = defaultdict(list)
    for p, s in live_pairs(prog.id, ids):
        if p.mentee_id != mentee_id:
            live_by[p.mentor_id].append((p, s))
    others_by: dict[int, list[int]] = defaultdict(list)
    for c in rnd.constraints:
        if c.kind == "lock" and c.mentor_id in idset and c.mentee_id != mentee_id \
                and c.mentee_id not in {p.mentee_id for p, _s in live_by.get(c.mentor_id, [])}:
            others_by[c.mentor_id].append(c.mentee_id)
    locked = {e for es in others_by.values() for e in es}
    taken = busy_of(prog, [*ids, mentee_id, *locked])
    history = set(db.session.scalars(select(Pair.mentor_id).where(
        Pair.mentee_id == mentee_id, Pair.mentor_id.in_(ids),
        or_(Pair.programme_id != prog.id, Pair.status.not_in(LIVE)))))
    mentors = {pid: to_mentor(parts[(pid, "mentor")], prog.default_capacity, prog.mode_policy,
                              taken.get(pid, ())) for pid in ids}
    mentee = to_mentee(me, prog.mode_policy, taken=taken.get(mentee_id, ()))
    prep = Prepared(solver.Instance(
        mentors=tuple(mentors[pid] for pid in ids), mentees=(mentee,),
        previous_pairs=tuple(solver.Link(str(mentee_id), str(m)) for m in sorted(history)),
    ), cfg)
    out: dict[int, PairCheck] = {}
    for pid in ids:
        j = prep.mentor_idx[str(pid)]
        live, others = live_by.get(pid, []), others_by.get(pid, [])
        mentor = mentors[pid]
        room: str | None
        if len(live) + len(others) + 1 > mentor.capacity:
            room = "capacity"
        else:
            mentees = [to_mentee(parts[(e, "mentee")], prog.mode_policy, taken=taken.get(e, ()))
                       for e in others if (e, "mentee") in parts] + [mentee]
            # the live pairs kept as the solve keeps them (``fit_check`` applies keep_booked)
            anyone = replace(mentor, capacity=len(live) + len(mentees))
            room = solver.fit_check(anyone, mentees, cfg, booked=[s for _p, s in live]).code
        out[pid] = PairCheck(prep.violations(0, j), prep.common(0, j), room)
    return out


def overlap(a: int, b: int, cfg: solver.SolverConfig) -> bool:
    d = abs(a - b) % WEEK
    return min(d, WEEK - d) < cfg.session_minutes


# --------------------------------------------------------------------------- suggestions


def suggestions(prog: Programme, mentee_id: int, limit: int | None = None
                ) -> list[dict[str, Any]]:
    """The mentors a mentee may rank: eligible by the hard rules (as the open round, or the
    configured defaults, set them), with room left, best solver score first."""
    limit = limit or settings().rounds.preference_suggestions
    rnd = db.session.scalar(select(Round).where(
        Round.programme_id == prog.id, Round.status.in_(programmes.OPEN_ROUND))
        .order_by(Round.id.desc()).limit(1))
    cfg = config_for(prog, criteria_of(rnd))
    me = next(iter(load_participants(prog.id, [mentee_id], role="mentee")), None)
    mentor_parts = sorted((p for p in load_participants(prog.id, role="mentor")
                           if p.person_id != mentee_id), key=lambda p: p.person_id)
    if me is None or not mentor_parts:
        return []
    load: dict[int, int] = defaultdict(int, db.session.execute(
        select(Pair.mentor_id, func.count(Pair.id)).where(
            Pair.programme_id == prog.id, Pair.status.in_(LIVE)).group_by(Pair.mentor_id)).all())
    mentors = [to_mentor(p, prog.default_capacity, prog.mode_policy) for p in mentor_parts]
    e = to_mentee(me, prog.mode_policy)
    history = db.session.scalars(select(Pair.mentor_id).where(
        Pair.mentee_id == mentee_id,
        or_(Pair.programme_id != prog.id, Pair.status.not_in(LIVE)))).all()
    prep = Prepared(solver.Instance(mentors=tuple(mentors), mentees=(e,), previous_pairs=tuple(
        solver.Link(str(mentee_id), str(m)) for m in history)), cfg)
    out: list[dict[str, Any]] = []
    for part in mentor_parts:
        j = prep.mentor_idx[str(part.person_id)]
        m = prep.mentors[j]
        if prep.violations(0, j) or load[part.person_id] >= m.capacity:
            continue
        mode = pair_mode(e, m, cfg) or "online"
        score, breakdown = score_pair(e, m, cfg, mode)
        out.append({"participant": part, "person": part.person, "score": score, "mode": mode,
                    "reasons": reason_codes(e, m, breakdown, None, mode)})
    out.sort(key=lambda x: (-x["score"], x["person"].name))
    return out[:limit]


# --------------------------------------------------------------------------- solver -> rows


_INFEASIBLE = {"unknown_mentee": "not_selected", "unknown_mentor": "not_selected",
               "duplicate": "mentee_taken", "rule": "rules", "fixed_slot": "no_slot",
               "capacity": "capacity", "no_slot": "no_slot"}


def infeasible_code(entry: dict[str, Any]) -> tuple[str, list[str]]:
    """A lock the solver could not keep -> (our code, rules broken) for the page."""
    code = _INFEASIBLE.get(str(entry.get("code", "")), "other")
    rules = [str(r) for r in entry.get("rules", [])] if code == "rules" else []
    return code, rules


def check_solution(built: Built, sol: solver.Solution) -> list[str]:
    """What the solver's own validation cannot know: every live and hand-set pair kept where
    it was, no mentor above capacity, no new session on top of a live one."""
    problems = []
    kept = {p.mentee: p for p in sol.pairs}
    for sid in list(built.live) + list(built.manual):
        p = kept.get(sid)
        if p is None or not p.fixed:
            problems.append(f"fixed pair of mentee {sid} not kept")
    load: dict[int, int] = defaultdict(int)
    minutes: dict[int, list[int]] = defaultdict(list)
    for p in sol.pairs:
        if p.mentee in built.live:
            continue
        if not p.fixed and int(p.mentee) not in built.selected:
            problems.append(f"mentee {p.mentee} paired but not selected")
        load[int(p.mentor)] += 1
        minutes[int(p.mentor)].append(p.slot.minute_of_week)
    for mid, n in load.items():
        live_n = sum(1 for m in built.live.values() if m == mid)
        if n + live_n > built.capacity.get(mid, 0):
            problems.append(f"mentor {mid} above capacity")
        for a in minutes[mid]:
            if any(overlap(a, b, built.config) for b in built.live_slots.get(mid, [])):
                problems.append(f"mentor {mid}: new session overlaps a live one")
    return problems


def write_solution(rnd: Round, built: Built, sol: solver.Solution) -> list[dict[str, Any]]:
    """Replace the round's proposals and unmatched rows with bulk statements (the caller
    commits once, with the status change). Returns the locks and hand-set pairs that could
    not be kept (with codes, for the page)."""
    for old in [*rnd.proposals, *rnd.unmatched]:  # no stale objects for reused ids
        db.session.expunge(old)
    db.session.execute(delete(Proposal).where(Proposal.round_id == rnd.id))
    db.session.execute(delete(UnmatchedMentee).where(UnmatchedMentee.round_id == rnd.id))
    rows: list[dict[str, Any]] = []
    for p in sol.pairs:
        if p.mentee in built.live:
            continue
        mow = p.slot.minute_of_week
        row: dict[str, Any] = {
            "round_id": rnd.id, "mentee_id": int(p.mentee), "mentor_id": int(p.mentor),
            "weekday_utc": mow // 1440, "start_minute_utc": mow % 1440}
        reasons = list(p.reasons)
        if p.mentee in built.manual:  # the coordinator's own words stay theirs
            reasons.insert(0, {"code": "manual", "note": built.manual[p.mentee]})
        row.update(score=float(p.score), breakdown=dict(p.breakdown), mode=p.mode,
                   manual=p.mentee in built.manual or bool(p.locked), reasons=reasons)
        rows.append(row)
    if rows:
        db.session.execute(insert(Proposal), rows)
    unmatched = [{"round_id": rnd.id, "mentee_id": int(u.mentee), "reason": u.reason[:30],
                  "params": dict(u.params)}
                 for u in sol.unmatched if int(u.mentee) in built.selected]
    if unmatched:
        db.session.execute(insert(UnmatchedMentee), unmatched)
    db.session.expire(rnd, ["proposals", "unmatched"])
    out = list(built.infeasible)
    for x in sol.infeasible_locks:
        code, rules = infeasible_code(x)
        out.append({"kind": "lock" if x.get("kind") != "fixed" else "manual",
                    "mentee_id": int(x["mentee"]), "mentor_id": int(x["mentor"]),
                    "code": code, "rules": rules})
    return out


def focus_of(mentee_ids: list[int]) -> dict[int, list[str]]:
    """Each mentee's three largest gaps (competency codes): one query for all of them."""
    people = db.session.scalars(select(Person).where(Person.id.in_(mentee_ids or [0]))
                                .options(selectinload(Person.competencies))).unique()
    out = {}
    for person in people:
        gaps = sorted((pc for pc in person.competencies if pc.gap > 0),
                      key=lambda pc: (-pc.gap, pc.competency.code))
        out[person.id] = [pc.competency.code for pc in gaps[:3]]
    return out
