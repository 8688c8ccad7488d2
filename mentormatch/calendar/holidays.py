"""Skip Indonesian public holidays and cuti bersama in a weekly session series.

``holidays.country_holidays("ID", categories=("public", "government"))``: the *public* category
holds the national holidays, *government* the cuti bersama (joint leave, "... Joint Holiday");
the default category alone leaves cuti bersama out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as _holidays

from .model import recurrence_starts

HOLIDAY_CATEGORIES: tuple[str, ...] = ("public", "government")
#: Safety valve: never plan more than this many RRULE instances per wanted session.
_MAX_FACTOR = 4


#: holiday names as people here read them ("Cuti Bersama Hari Raya Natal", not "Christmas
#: Joint Holiday")
HOLIDAY_LANGUAGE = "id"


@lru_cache(maxsize=32)
def _calendar(country: str, years: tuple[int, ...]) -> _holidays.HolidayBase:
    return _holidays.country_holidays(country, categories=HOLIDAY_CATEGORIES, years=years,
                                      language=HOLIDAY_LANGUAGE)


def holiday_name(day: date, country: str = "ID") -> str | None:
    """The holiday (or cuti bersama) name on ``day``, or ``None`` for a working day."""
    return _calendar(country, (day.year,)).get(day)


@dataclass(frozen=True, slots=True)
class OccurrencePlan:
    """Result of :func:`plan_occurrences`.

    ``starts`` are the N real sessions. ``skipped`` are the RRULE instances that fall on a holiday
    *after* ``starts[0]`` - they become EXDATEs. ``leading_skipped`` are holidays before the first
    real session; the series simply starts later (DTSTART is never itself excluded).
    ``rrule_count`` is the ``COUNT`` to write: ``len(starts) + len(skipped)``.
    """

    starts: tuple[datetime, ...]
    skipped: tuple[datetime, ...]
    leading_skipped: tuple[datetime, ...] = ()

    @property
    def dtstart(self) -> datetime:
        return self.starts[0]

    @property
    def rrule_count(self) -> int:
        return len(self.starts) + len(self.skipped)

    @property
    def exdates(self) -> tuple[datetime, ...]:
        return self.skipped

    @property
    def all_skipped(self) -> tuple[datetime, ...]:
        return self.leading_skipped + self.skipped


def plan_occurrences(
    first_start: datetime,
    interval_weeks: int,
    count: int,
    tz: ZoneInfo | str,
    country: str = "ID",
    *,
    is_holiday: Callable[[date], bool] | None = None,
    extra_skip: Iterable[date] = (),
) -> OccurrencePlan:
    """Plan ``count`` real sessions every ``interval_weeks`` weeks from ``first_start``.

    An instance whose local date (in ``tz``) is a holiday or cuti bersama is skipped and the series
    is extended, so the pair still gets ``count`` sessions. ``is_holiday`` replaces the holiday
    lookup (tests); ``extra_skip`` adds dates (e.g. an agency's own closure days).
    """
    if first_start.tzinfo is None:
        raise ValueError("first_start must be timezone-aware")
    if count < 1 or interval_weeks < 1:
        raise ValueError("count and interval_weeks must be >= 1")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    extra = frozenset(extra_skip)

    def skip(day: date) -> bool:
        if day in extra:
            return True
        if is_holiday is not None:
            return bool(is_holiday(day))
        return holiday_name(day, country) is not None

    limit = count * _MAX_FACTOR + 8
    candidates = recurrence_starts(first_start, interval_weeks, limit, zone)
    starts: list[datetime] = []
    skipped: list[datetime] = []
    leading: list[datetime] = []
    for start in candidates:
        if skip(start.astimezone(zone).date()):
            (skipped if starts else leading).append(start)
            continue
        starts.append(start)
        if len(starts) == count:
            break
    else:
        raise ValueError(f"could not place {count} sessions avoiding holidays within {limit} weeks")
    if not starts:  # pragma: no cover - guarded by the loop above
        raise ValueError("no session could be placed")
    # The planned series starts at the first real session: re-express the later instances as a
    # recurrence from that start (same wall-clock time, same interval).
    return OccurrencePlan(tuple(starts), tuple(skipped), tuple(leading))
