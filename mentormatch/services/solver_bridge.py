"""Rows <-> the pure solver: build a `solver.Instance` from a round, write a `Solution` back."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

import solver
from solver.eligibility import Prepared

from ..extensions import db
from ..models import (
    MentorPreference,
    Pair,
    Participant,
    Person,
    Proposal,
    Round,
    RoundConstraint,
    UnmatchedMentee,
)
from .catalogue import by_code

# Hard rules the coordinator may override with a written reason; the others are never waived.
OVERRIDABLE = {"grade", "same_city_in_person", "no_repeat", "mode"}
LIVE = ("invited", "active")
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
    cfg = current_app.config["MM"]["solver"]
    return {
        "min_grade_steps": int(cfg.get("min_grade_steps", 1)),
        **{k: bool(cfg.get(k, True)) for k in RULE_KEYS},
        "weights": {k: float(v) for k, v in cfg.get("weights", {}).items() if k in WEIGHT_KEYS},
        "time_limit_seconds": float(cfg.get("time_limit_seconds", 30)),
    }


def criteria_of(rnd: Round) -> dict[str, Any]:
    base = default_criteria()
    given = rnd.criteria or {}
    out = {**base, **{k: v for k, v in given.items() if k != "weights"}}
    out["weights"] = {**base["weights"], **(given.get("weights") or {})}
    return out


def solver_config(rnd: Round) -> solver.SolverConfig:
    c = criteria_of(rnd)
    seed = int(current_app.config["MM"]["solver"].get("seed", 0))
    return solver.SolverConfig(
        min_grade_gap=int(c["min_grade_steps"]),
        rules={
            "grade": int(c["min_grade_steps"]) > 0,
            "supervisor": bool(c["no_direct_supervisor"]),
            "no_repeat": bool(c["no_repeat_pairs"]),
            "same_city_in_person": bool(c["in_person_same_city"]),
        },
        session_minutes=rnd.programme.session_minutes,
        weights=solver.Weights(**{WEIGHT_KEYS[k]: float(v) for k, v in c["weights"].items()}),
        time_limit=float(c["time_limit_seconds"]),
        seed=seed,
    )


def _mode(person: Person, policy: str) -> str:
    return policy if policy in ("online", "in_person") else (person.mode or "either")


def _common(p: Person, policy: str) -> dict[str, Any]:
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
    }


def to_mentor(part: Participant, default_capacity: int, policy: str) -> solver.Mentor:
    return solver.Mentor(**_common(part.person, policy),
                         capacity=part.capacity or default_capacity,
                         max_sessions_per_day=part.max_sessions_per_day)


def to_mentee(part: Participant, policy: str, prefs: tuple[str, ...] = ()) -> solver.Mentee:
    p = part.person
    return solver.Mentee(
        **_common(p, policy),
        required={pc.competency.code: pc.required_level for pc in p.competencies
                  if pc.required_level},
        supervisor_id=str(p.supervisor_id) if p.supervisor_id else None,
        preferences=prefs,
        priority=bool(part.is_priority or p.is_priority),
    )


@dataclass
class Built:
    instance: solver.Instance
    config: solver.SolverConfig
    manual: list[RoundConstraint]  # overridden hand-set pairs, written outside the solver


def build(rnd: Round, mentee_ids: list[int], mentor_ids: list[int]) -> Built:
    """The solver's view of a round: the selected participants, locks, forbids, history."""
    prog = rnd.programme
    parts = db.session.scalars(
        select(Participant).where(Participant.programme_id == prog.id,
                                  Participant.active.is_(True))
    ).unique().all()
    by_role = {("mentee", p.person_id): p for p in parts if p.role == "mentee"}
    by_role.update({("mentor", p.person_id): p for p in parts if p.role == "mentor"})
    prefs: dict[int, list[str]] = {}
    if prog.preferences_enabled:
        for mp in db.session.scalars(select(MentorPreference).where(
                MentorPreference.programme_id == prog.id).order_by(MentorPreference.rank)):
            prefs.setdefault(mp.mentee_id, []).append(str(mp.mentor_id))
    manual = [c for c in rnd.constraints if c.kind == "lock" and c.override_reason]
    manual_mentees = {c.mentee_id for c in manual}
    taken: dict[int, int] = {}
    for c in manual:
        taken[c.mentor_id] = taken.get(c.mentor_id, 0) + 1

    # Rematch: live pairs of this programme stay fixed and use their mentor's capacity.
    fixed: list[solver.Link] = []
    live = db.session.scalars(select(Pair).where(
        Pair.programme_id == prog.id, Pair.status.in_(LIVE))).all()
    live_mentees = {p.mentee_id for p in live}
    mentors = []
    for pid in mentor_ids:
        part = by_role.get(("mentor", pid))
        if part is None:
            continue
        m = to_mentor(part, prog.default_capacity, prog.mode_policy)
        keep = m.capacity - taken.get(pid, 0)
        if rnd.kind == "rematch":
            keep -= sum(1 for p in live if p.mentor_id == pid)
        if keep > 0:
            mentors.append(replace(m, capacity=keep))
    mentees = [
        to_mentee(by_role[("mentee", pid)], prog.mode_policy, tuple(prefs.get(pid, ())[:3]))
        for pid in mentee_ids
        if ("mentee", pid) in by_role and pid not in manual_mentees and pid not in live_mentees
    ]
    ids = [int(m.id) for m in mentees] + [int(m.id) for m in mentors]
    history = db.session.scalars(select(Pair).where(
        Pair.mentee_id.in_(ids), Pair.mentor_id.in_(ids),
        or_(Pair.programme_id != prog.id, Pair.status.not_in(LIVE)))).all() if ids else []
    locks = [solver.Link(str(c.mentee_id), str(c.mentor_id)) for c in rnd.constraints
             if c.kind == "lock" and not c.override_reason]
    forbids = [solver.Link(str(c.mentee_id), str(c.mentor_id)) for c in rnd.constraints
               if c.kind == "forbid"]
    inst = solver.Instance(
        mentors=tuple(mentors), mentees=tuple(mentees), locks=tuple(locks),
        forbids=tuple(forbids),
        previous_pairs=tuple(solver.Link(str(p.mentee_id), str(p.mentor_id)) for p in history),
        fixed=tuple(fixed),
    )
    return Built(inst, solver_config(rnd), manual)


def check_pair(rnd: Round, mentee: Participant, mentor: Participant) -> tuple[list[str], int]:
    """Hard rules a hand-set pair breaks, and the bitmask of common slots (0 = no common time)."""
    prog = rnd.programme
    cfg = solver_config(rnd)
    history = db.session.scalar(select(Pair.id).where(
        Pair.mentee_id == mentee.person_id, Pair.mentor_id == mentor.person_id,
        or_(Pair.programme_id != prog.id, Pair.status.not_in(LIVE))).limit(1))
    inst = solver.Instance(
        mentors=(to_mentor(mentor, prog.default_capacity, prog.mode_policy),),
        mentees=(to_mentee(mentee, prog.mode_policy),),
        previous_pairs=((solver.Link(str(mentee.person_id), str(mentor.person_id)),)
                        if history else ()),
    )
    prep = Prepared(inst, cfg)
    return prep.violations(0, 0), prep.common(0, 0)


def first_slot(mask: int, step: int) -> int | None:
    if not mask:
        return None
    return ((mask & -mask).bit_length() - 1) * step


_GAP = re.compile(r"(\S+) (\d)\u2192(\d)")


def named(text: str, locale: str) -> str:
    """Competency codes in a solver reason -> their names ('KOM 1→3' -> 'Komunikasi 1→3')."""
    codes = by_code()

    def sub(m: re.Match) -> str:
        comp = codes.get(m.group(1))
        return f"{comp.name(locale)} {m.group(2)}\u2192{m.group(3)}" if comp else m.group(0)

    return _GAP.sub(sub, text)


def write_solution(rnd: Round, built: Built, sol: solver.Solution) -> None:
    """Replace the round's proposals and unmatched rows (caller commits once)."""
    for p in list(rnd.proposals):
        rnd.proposals.remove(p)
    for u in list(rnd.unmatched):
        rnd.unmatched.remove(u)
    db.session.flush()
    for p in sol.pairs:
        mow = p.slot.minute_of_week
        rnd.proposals.append(Proposal(
            mentee_id=int(p.mentee), mentor_id=int(p.mentor), weekday_utc=mow // 1440,
            start_minute_utc=mow % 1440, score=float(p.score), breakdown=dict(p.breakdown),
            reason_id=named(p.reason_id, "id")[:1000], reason_en=named(p.reason_en, "en")[:1000],
            manual=bool(p.locked)))
    step = built.config.slot_step_minutes
    for c in built.manual:
        mentee = db.session.scalar(select(Participant).where(
            Participant.programme_id == rnd.programme_id, Participant.person_id == c.mentee_id,
            Participant.role == "mentee"))
        mentor = db.session.scalar(select(Participant).where(
            Participant.programme_id == rnd.programme_id, Participant.person_id == c.mentor_id,
            Participant.role == "mentor"))
        if mentee is None or mentor is None:
            continue
        _v, mask = check_pair(rnd, mentee, mentor)
        slot = first_slot(mask, step) or 0
        note = f"Set by hand: {c.override_reason}"
        rnd.proposals.append(Proposal(
            mentee_id=c.mentee_id, mentor_id=c.mentor_id, weekday_utc=slot // 1440,
            start_minute_utc=slot % 1440, score=0.0, breakdown={},
            reason_id=f"Ditetapkan manual: {c.override_reason}"[:1000], reason_en=note[:1000],
            manual=True))
    for u in sol.unmatched:
        rnd.unmatched.append(UnmatchedMentee(mentee_id=int(u.mentee), reason=u.reason[:30]))
    db.session.flush()
