"""JP arithmetic at the edges (pure functions, no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mentormatch.services import jp

FLOOR = jp.JpRule()
NEAREST = jp.JpRule(rounding="nearest")
HALF = jp.JpRule(rounding="half")


@pytest.mark.parametrize(("minutes", "floor", "nearest", "half"), [
    (0, 0, 0, 0), (22, 0, 0, 0), (23, 0, 1, 0.5), (44, 0, 1, 0.5), (45, 1, 1, 1),
    (46, 1, 1, 1), (67, 1, 1, 1), (68, 1, 2, 1.5), (89, 1, 2, 1.5), (90, 2, 2, 2),
    (900, 20, 20, 20), (-5, 0, 0, 0),
])
def test_rounding_modes(minutes, floor, nearest, half):
    assert jp.minutes_to_jp(minutes, FLOOR) == Decimal(floor)
    assert jp.minutes_to_jp(minutes, NEAREST) == Decimal(nearest)
    assert jp.minutes_to_jp(minutes, HALF) == Decimal(str(half))


@pytest.mark.parametrize(("duration", "cap", "expected"), [
    (0, 120, 0), (44, 120, 44), (120, 120, 120), (121, 120, 120), (600, 120, 120),
    (600, 0, 600), (-10, 120, 0),
])
def test_cap_per_session(duration, cap, expected):
    assert jp.credited_minutes(duration, jp.JpRule(max_minutes_per_session=cap)) == expected


def test_other_minutes_per_jp():
    rule = jp.JpRule(minutes_per_jp=60)
    assert jp.minutes_to_jp(59, rule) == 0
    assert jp.minutes_to_jp(60, rule) == 1


def test_rule_from_overlays_programme_rule():
    rule = jp.rule_from({"minutes_per_jp": 45, "rounding": "floor", "max_minutes_per_session": 120},
                        {"rounding": "half", "max_minutes_per_session": 90})
    assert rule == jp.JpRule(45, "half", 90)
    assert jp.rule_from(None) == jp.JpRule(45, "floor", 0)


@pytest.mark.parametrize("bad", [{"minutes_per_jp": 0}, {"rounding": "ceil"},
                                 {"max_minutes_per_session": -1}])
def test_bad_rule_rejected(bad):
    with pytest.raises(ValueError):
        jp.rule_from({}, bad)


def test_year_boundary():
    assert jp.in_year(date(2026, 12, 31), 2026)
    assert not jp.in_year(date(2027, 1, 1), 2026)
    assert not jp.in_year(date(2025, 12, 31), 2026)


def test_format_and_progress():
    assert jp.fmt_jp(Decimal("2.0")) == "2"
    assert jp.fmt_jp(Decimal("2.5")) == "2.5"
    assert jp.fmt_jp(Decimal("20")) == "20"
    assert jp.progress_percent(Decimal(5), 20) == 25
    assert jp.progress_percent(Decimal(30), 20) == 100
    assert jp.progress_percent(Decimal(1), 0) == 100
