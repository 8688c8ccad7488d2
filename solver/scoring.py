"""Pair score (integer points, ``SCALE`` per unit of weight) with its breakdown and reasons."""

from __future__ import annotations

from .eligibility import pair_mode
from .schema import WEEKDAYS, Mentee, Mentor, SolverConfig, Weights

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


_DAY_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_DAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _pretty(comp: str) -> str:
    return comp.replace("_", " ").strip().title() if comp.islower() else comp


def reasons(
    mentee: Mentee,
    mentor: Mentor,
    breakdown: dict[str, int],
    local: tuple[str, str, str] | None,
    mode: str,
) -> tuple[str, str]:
    """One-line plain reasons (Bahasa Indonesia, English). ``local`` = mentee's local
    (weekday 'Mon'.., 'HH:MM', tz abbreviation) of the session."""
    lifts = gap_lifts(mentee, mentor)
    top = sorted(
        (c for c in lifts if breakdown.get(f"gap:{c}", 0) > 0),
        key=lambda c: (-breakdown[f"gap:{c}"], c),
    )[:2]
    parts_id, parts_en = [], []
    if top:
        g = [f"{_pretty(c)} {lifts[c][0]}→{lifts[c][1]}" for c in top]
        parts_id.append("menutup gap " + " dan ".join(g))
        parts_en.append("closes the gap in " + " and ".join(g))
    else:
        parts_id.append("tidak ada gap kompetensi yang tertutup")
        parts_en.append("closes no competency gap")
    if local is not None:
        day = WEEKDAYS.index(local[0])
        parts_id.append(f"sama-sama luang {_DAY_ID[day]} {local[1]} {local[2]}")
        parts_en.append(f"both free {_DAY_EN[day]} {local[1]} {local[2]}")
    if "preference" in breakdown:
        rank = mentee.preferences.index(mentor.id) + 1
        parts_id.append(f"pilihan ke-{rank} mentee")
        parts_en.append(f"mentee's choice #{rank}")
    if mode == "in_person" and mentee.city == mentor.city and mentee.city:
        parts_id.append("satu kota, tatap muka")
        parts_en.append("same city, in person")
    elif mode == "online":
        parts_id.append("daring")
        parts_en.append("online")
    return "; ".join(parts_id), "; ".join(parts_en)
