"""Pair score (integer points, ``SCALE`` per unit of weight), its breakdown and reason codes."""

from __future__ import annotations

from typing import Any

from .eligibility import pair_mode
from .schema import Mentee, Mentor, SolverConfig, Weights

SCALE = 10


def points(value: float) -> int:
    return int(round(value * SCALE))


def competency_points(weights: Weights, comp: str) -> int:
    return points(weights.gap * weights.competency.get(comp, 1.0))


def preference_points(weights: Weights, rank: int, n: int) -> int:
    """rank 0-based among n ranked preferences: full weight for the first, linearly less."""
    return points(weights.preference) * (n - rank) // n


def gap_lifts(mentee: Mentee, mentor: Mentor) -> dict[str, tuple[int, int, int]]:
    """competency -> (current, reached, lift) for every gap the mentor can lift."""
    out = {}
    for comp in sorted(mentee.required):
        req = mentee.required[comp]
        cur = mentee.levels.get(comp, 0)
        reached = min(mentor.levels.get(comp, 0), req)
        if reached > cur:
            out[comp] = (cur, reached, reached - cur)
    return out


def score_pair(
    mentee: Mentee, mentor: Mentor, config: SolverConfig, mode: str | None = None
) -> tuple[int, dict[str, int]]:
    """Score in integer points and its breakdown (keys: gap:<competency>, preference,
    same_city, unit, grade_distance)."""
    w = config.weights
    mode = mode or pair_mode(mentee, mentor, config)
    breakdown: dict[str, int] = {}
    for comp, (_cur, _reached, lift) in gap_lifts(mentee, mentor).items():
        breakdown[f"gap:{comp}"] = competency_points(w, comp) * lift
    if mentor.id in mentee.preferences:
        rank = mentee.preferences.index(mentor.id)
        breakdown["preference"] = preference_points(w, rank, len(mentee.preferences))
    if mode == "in_person" and mentee.city == mentor.city and mentee.city:
        breakdown["same_city"] = points(w.same_city)
    unit = points(w.same_unit) if mentee.unit == mentor.unit else points(w.other_unit)
    if unit:
        breakdown["unit"] = unit
    extra = 0 if mentor.grade is None else max(0, mentor.grade - mentee.grade
                                               - config.min_grade_gap)
    if extra and points(w.grade_distance):
        breakdown["grade_distance"] = points(w.grade_distance) * extra
    return sum(breakdown.values()), breakdown


REASON_CODES = ("gap", "no_gap", "common_time", "preference", "same_city", "online")


def reason_codes(
    mentee: Mentee,
    mentor: Mentor,
    breakdown: dict[str, int],
    local: tuple[str, str, str] | None,
    mode: str,
) -> list[dict[str, Any]]:
    """Why this pair, as codes with parameters (no prose: the app words them in the reader's
    language). ``local`` = the mentee's local (weekday 'Mon'.., 'HH:MM', zone abbreviation)
    of the session. Codes, in this order:

    * ``gap`` {competency, from, to}: the (at most two) largest gaps the mentor closes;
      ``no_gap`` when none;
    * ``common_time`` {weekday, time, tz}: both are free then (mentee's local time);
    * ``preference`` {rank}: 1-based rank in the mentee's preferences;
    * ``same_city`` (in person in one city) or ``online``."""
    lifts = gap_lifts(mentee, mentor)
    top = sorted(
        (c for c in lifts if breakdown.get(f"gap:{c}", 0) > 0),
        key=lambda c: (-breakdown[f"gap:{c}"], c),
    )[:2]
    out: list[dict[str, Any]] = [
        {"code": "gap", "competency": c, "from": lifts[c][0], "to": lifts[c][1]} for c in top
    ] or [{"code": "no_gap"}]
    if local is not None:
        out.append({"code": "common_time", "weekday": local[0], "time": local[1],
                    "tz": local[2]})
    if "preference" in breakdown:
        out.append({"code": "preference", "rank": mentee.preferences.index(mentor.id) + 1})
    if mode == "in_person" and mentee.city == mentor.city and mentee.city:
        out.append({"code": "same_city"})
    elif mode == "online":
        out.append({"code": "online"})
    return out
