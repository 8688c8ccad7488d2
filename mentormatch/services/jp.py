"""JP (jam pelajaran) arithmetic: pure functions, no database.

Minutes are what we store; JP are derived. A programme's `jp_rule` overrides the configured
defaults (`[jp]`): `minutes_per_jp` (45), `rounding` (floor | nearest | half) and
`max_minutes_per_session` (a per-session cap; 0 or missing means no cap).

Rounding applies to the *total* of credited minutes, so short sessions add up rather than each
losing its remainder: floor → whole JP rounded down; nearest → whole JP, halves round up;
half → rounded down to the nearest half JP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

ROUNDINGS = ("floor", "nearest", "half")
DEFAULTS: dict[str, Any] = {"minutes_per_jp": 45, "rounding": "floor",
                            "max_minutes_per_session": 0, "yearly_target_jp": 20}


@dataclass(frozen=True)
class JpRule:
    minutes_per_jp: int = 45
    rounding: str = "floor"
    max_minutes_per_session: int = 0  # 0 = no cap

    def __post_init__(self) -> None:
        if self.minutes_per_jp < 1:
            raise ValueError("minutes_per_jp must be at least 1")
        if self.rounding not in ROUNDINGS:
            raise ValueError(f"rounding must be one of {ROUNDINGS}")
        if self.max_minutes_per_session < 0:
            raise ValueError("max_minutes_per_session must not be negative")


def rule_from(config: dict[str, Any] | None,
              programme_rule: dict[str, Any] | None = None) -> JpRule:
    """The configured defaults overlaid with a programme's own rule."""
    merged = {**DEFAULTS, **(config or {}), **(programme_rule or {})}
    return JpRule(minutes_per_jp=int(merged["minutes_per_jp"]), rounding=str(merged["rounding"]),
                  max_minutes_per_session=int(merged.get("max_minutes_per_session") or 0))


def credited_minutes(duration_minutes: int, rule: JpRule) -> int:
    """Minutes of one confirmed session that count: never negative, capped by the rule."""
    minutes = max(0, int(duration_minutes))
    if rule.max_minutes_per_session:
        minutes = min(minutes, rule.max_minutes_per_session)
    return minutes


def minutes_to_jp(minutes: int, rule: JpRule) -> Decimal:
    """Total credited minutes → JP under the rule's rounding."""
    raw = Decimal(max(0, int(minutes))) / Decimal(rule.minutes_per_jp)
    if rule.rounding == "floor":
        return raw.to_integral_value(rounding=ROUND_FLOOR)
    if rule.rounding == "nearest":
        return raw.to_integral_value(rounding=ROUND_HALF_UP)
    return (raw * 2).to_integral_value(rounding=ROUND_FLOOR) / 2


def in_year(held_on: date, year: int) -> bool:
    """A session counts in the calendar year it was held (local date, as logged)."""
    return held_on.year == year


def fmt_jp(value: Decimal) -> str:
    """'3', '2.5' — no trailing zeros."""
    return format(value.normalize(), "f")


def progress_percent(earned: Decimal, target: int | float) -> int:
    if not target:
        return 100
    return min(100, int(Decimal(earned) * 100 / Decimal(str(target))))
