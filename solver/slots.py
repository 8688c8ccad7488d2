"""Weekly availability in local time -> UTC weekly slot grid.

A slot is a session start on a UTC grid of ``slot_step_minutes``; its index ``g`` means the
session starts at UTC minute ``g * step`` of the week (Monday 00:00 UTC = 0) of the reference week.
Mentees may start on any grid step of their free time; mentors (``SolverConfig.mentor_blocks``,
default) offer back-to-back blocks from the start of each free stretch inside working hours, the
way office hours are published: 07:30 local starts exist (WIB 07:30 = WITA 08:30 = 00:30 UTC),
a mentor's blocks never overlap, so "one mentee per slot" is exactly "distinct slots" and the
min-cost flow stays exact.
A person's slots are kept as a Python int bitmask (bit g set = the whole session fits inside one
of their availability windows, inside working hours, on a non-holiday local date).
Offsets are computed with zoneinfo for the reference week, so DST zones work too.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from .schema import WEEKDAYS, LocalTime, SolverConfig, Window, fmt_hhmm

WEEK = 7 * 1440
UTC = dt.UTC


def monday_of(reference_week: str) -> dt.date:
    d = dt.date.fromisoformat(reference_week)
    return d - dt.timedelta(days=d.weekday())


def _utc_minute_of_week(local: dt.datetime, monday: dt.date) -> int:
    base = dt.datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return int((local.astimezone(UTC) - base).total_seconds() // 60)


def _intersect(a: list[tuple[int, int]], b: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            s, e = max(s1, s2), min(e1, e2)
            if e > s:
                out.append((s, e))
    return out


def slot_mask(
    tz: str,
    windows: tuple[Window, ...],
    config: SolverConfig,
    holidays: tuple[str, ...] = (),
    blocks: bool = False,
    busy: tuple[tuple[int, int], ...] = (),
) -> int:
    """Bitmask of grid slots in which a session fits entirely inside the given windows and
    outside the person's ``busy`` time (weekly UTC intervals [start, end) in minutes of the
    week, e.g. the sessions of their other programmes).

    ``blocks`` (mentors, when ``config.mentor_blocks``): only the back-to-back session blocks
    that tile each free stretch from its start (a mentor free 07:30-12:00 offers 07:30, 08:30,
    09:30, 10:30), so a mentor's possible sessions never overlap each other."""
    if not config.rule("common_slot"):
        # rule off: availability windows are ignored, any working-hours slot counts
        windows = tuple(Window(d, 0, 1440) for d in range(7))
    return _slot_mask(
        tz,
        windows,
        config.session_minutes,
        config.slot_step_minutes,
        config.reference_week,
        tuple(sorted(config.working_hours.items())),
        tuple(sorted(holidays)),
        blocks,
        tuple(sorted((int(a), int(b)) for a, b in busy)),
    )


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _minus_busy(a: int, b: int, busy: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """The stretch [a, b) of UTC minutes without the weekly busy intervals."""
    out = [(a, b)]
    for s, e in busy:
        for shift in (-WEEK, 0, WEEK):
            bs, be = s + shift, e + shift
            nxt = []
            for x, y in out:
                if be <= x or bs >= y:
                    nxt.append((x, y))
                    continue
                if x < bs:
                    nxt.append((x, bs))
                if be < y:
                    nxt.append((be, y))
            out = nxt
    return out


@lru_cache(maxsize=65536)
def _slot_mask(tz: str, windows: tuple[Window, ...], length: int, step: int,
               reference_week: str,
               working_hours: tuple[tuple[int, tuple[tuple[int, int], ...]], ...],
               holidays: tuple[str, ...], blocks: bool = False,
               busy: tuple[tuple[int, int], ...] = ()) -> int:
    zone = ZoneInfo(tz)
    monday = monday_of(reference_week)
    hol = {dt.date.fromisoformat(h) for h in holidays}
    wh = dict(working_hours)
    by_day: dict[int, list[tuple[int, int]]] = {}
    for w in windows:
        by_day.setdefault(w.weekday, []).append((w.start, w.end))
    mask = 0
    nslots = WEEK // step
    for day, spans in by_day.items():
        date = monday + dt.timedelta(days=day)
        if date in hol:
            continue
        spans = _merge_spans(_intersect(_merge_spans(spans), wh.get(day, ())))
        for a, b in spans:
            t0 = dt.datetime(date.year, date.month, date.day, tzinfo=zone) + dt.timedelta(
                minutes=a
            )
            # wall-clock arithmetic inside a day; working hours never straddle a DST switch
            offset = _utc_minute_of_week(t0, monday) - (day * 1440 + a)
            for ua, ub in _minus_busy(day * 1440 + a + offset, day * 1440 + b + offset, busy):
                if blocks:
                    u = -(-ua // step) * step  # first grid start of the stretch
                    while u + length <= ub:
                        mask |= 1 << ((u // step) % nslots)
                        u += -(-length // step) * step
                    continue
                g = -(-ua // step)
                while g * step + length <= ub:
                    mask |= 1 << (g % nslots)
                    g += 1
    return mask


def bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def local_time(tz: str, minute_of_week: int, reference_week: str) -> LocalTime:
    monday = monday_of(reference_week)
    base = dt.datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    t = (base + dt.timedelta(minutes=minute_of_week % WEEK)).astimezone(ZoneInfo(tz))
    return LocalTime(WEEKDAYS[t.weekday()], t.strftime("%H:%M"), t.tzname() or tz, tz)


def local_day(tz: str, minute_of_week: int, reference_week: str) -> int:
    """Local weekday (0 = Monday) of a UTC minute of the week."""
    return WEEKDAYS.index(local_time(tz, minute_of_week, reference_week).weekday)


def utc_label(minute_of_week: int) -> tuple[str, str]:
    m = minute_of_week % WEEK
    return WEEKDAYS[m // 1440], fmt_hhmm(m % 1440)


def overlaps(a: int, b: int, length: int) -> bool:
    """Do two sessions starting at UTC minutes-of-week a and b overlap (cyclic week)?"""
    d = abs(a - b) % WEEK
    return min(d, WEEK - d) < length
