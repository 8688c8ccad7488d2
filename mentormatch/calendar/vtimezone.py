"""VTIMEZONE components generated from ``zoneinfo`` with RRULE-based rules.

Why our own: ``icalendar``'s generated VTIMEZONEs for DST zones carry RDATE lists that ical.js
(Thunderbird) misreads. Here the transitions inside a window around the events are read from
``zoneinfo`` and folded into one ``STANDARD``/``DAYLIGHT`` sub-component per yearly rule
(``RRULE:FREQ=YEARLY;BYMONTH=..;BYDAY=..``, like tzurl.org / Thunderbird), with ``UNTIL`` when a
rule ends inside the window. Irregular transitions become single-onset sub-components (DTSTART
only, no RDATE). A leading sub-component pins the offset at the start of the window, so a fixed
offset zone (Asia/Jakarta, Asia/Makassar, Asia/Jayapura) is one ``STANDARD`` with equal offsets.
"""

from __future__ import annotations

import calendar as _stdcal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar

_DAY = 86400
_STEP = 6 * 3600
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class Transition:
    at: int  # UTC POSIX seconds of the first instant with the new offset
    offset_from: timedelta
    offset_to: timedelta
    is_dst: bool
    name: str

    @property
    def local_onset(self) -> datetime:
        """Wall-clock onset expressed in the *previous* offset (RFC 5545 3.6.5)."""
        return datetime.fromtimestamp(self.at, UTC).replace(tzinfo=None) + self.offset_from


def _offset(tz: ZoneInfo, ts: int) -> timedelta:
    return datetime.fromtimestamp(ts, tz).utcoffset() or timedelta(0)


def transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[Transition]:
    """UTC-offset changes of ``tz`` in ``[start, end)`` (aware datetimes)."""
    lo, hi = int(start.timestamp()), int(end.timestamp())
    out: list[Transition] = []
    prev_ts, prev_off = lo, _offset(tz, lo)
    ts = lo
    while ts < hi:
        ts = min(ts + _STEP, hi)
        off = _offset(tz, ts)
        if off != prev_off:
            a, b = prev_ts, ts  # offset(a) == prev_off, offset(b) != prev_off
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(tz, mid) == prev_off:
                    a = mid
                else:
                    b = mid
            after = datetime.fromtimestamp(b, tz)
            out.append(
                Transition(
                    at=b,
                    offset_from=prev_off,
                    offset_to=off,
                    is_dst=bool(after.dst()),
                    name=after.tzname() or "",
                )
            )
        prev_ts, prev_off = ts, off
    return out


def _nth_candidates(day: datetime) -> set[int]:
    nth = (day.day - 1) // 7 + 1
    cands = {nth}
    if day.day + 7 > _stdcal.monthrange(day.year, day.month)[1]:
        cands.add(-1)
    return cands


def _sub(kind_dst: bool, onset: datetime, t: Transition) -> icalendar.cal.Component:
    comp = icalendar.TimezoneDaylight() if kind_dst else icalendar.TimezoneStandard()
    comp.add("dtstart", onset)
    comp.add("tzoffsetfrom", t.offset_from)
    comp.add("tzoffsetto", t.offset_to)
    if t.name:
        comp.add("tzname", t.name)
    return comp


def build_vtimezone(tzid: str, start: datetime, end: datetime) -> icalendar.Timezone:
    """A VTIMEZONE for ``tzid`` valid (at least) from ``start`` to ``end``.

    The window is widened to whole years (one year before ``start`` to one after ``end``) so the
    yearly rules are recognisable and clients showing nearby dates still get the right offset.
    """
    tz = ZoneInfo(tzid)
    parts = _vtimezone_parts(tzid, start.astimezone(tz).year - 1, end.astimezone(tz).year + 2)
    vtz = icalendar.Timezone()
    vtz.add("tzid", tzid)
    vtz.add("x-lic-location", tzid)
    for is_dst, onset, t, rule in parts:
        comp = _sub(is_dst, onset, t)
        if rule:
            comp.add("rrule", dict(rule))
        vtz.add_component(comp)
    return vtz


_Part = tuple[bool, datetime, Transition, tuple[tuple[str, object], ...]]


@lru_cache(maxsize=256)
def _vtimezone_parts(tzid: str, first_year: int, end_year: int) -> tuple[_Part, ...]:
    """The sub-components of a VTIMEZONE for ``[first_year, end_year)``, as plain values.

    Cached: finding the transitions scans the window (milliseconds) and a big round's approval
    writes a thousand invites in the same few zones and years."""
    tz = ZoneInfo(tzid)
    win_start = datetime(first_year, 1, 1, tzinfo=tz)
    win_end = datetime(end_year, 1, 1, tzinfo=tz)
    parts: list[_Part] = []

    # Leading onset: pins the offset in force at the window start.
    first_ts = int(win_start.timestamp())
    first_off = _offset(tz, first_ts)
    first_dt = datetime.fromtimestamp(first_ts, tz)
    lead = Transition(first_ts, first_off, first_off, bool(first_dt.dst()), first_dt.tzname() or "")
    parts.append((lead.is_dst, lead.local_onset, lead, ()))

    changes = transitions(tz, win_start, win_end)
    last_year = win_end.year - 1
    groups: dict[tuple, list[Transition]] = {}
    for t in changes:
        onset = t.local_onset
        key = (
            t.offset_from,
            t.offset_to,
            t.is_dst,
            t.name,
            onset.month,
            onset.weekday(),
            onset.time(),
        )
        groups.setdefault(key, []).append(t)

    for trans in sorted(groups.values(), key=lambda g: g[0].at):
        onsets = [t.local_onset for t in trans]
        years = [o.year for o in onsets]
        yearly = len(trans) >= 2 and years == list(range(years[0], years[0] + len(years)))
        nths: set[int] = set()
        if yearly:
            nths = set.intersection(*(_nth_candidates(o) for o in onsets))
        if not nths:
            parts.extend((t.is_dst, t.local_onset, t, ()) for t in trans)
            continue
        nth = -1 if -1 in nths else min(nths)
        rule: list[tuple[str, object]] = [
            ("freq", "yearly"),
            ("bymonth", onsets[0].month),
            ("byday", f"{nth}{_WEEKDAYS[onsets[0].weekday()]}"),
        ]
        if years[-1] < last_year:  # the rule stopped inside the window
            rule.append(("until", datetime.fromtimestamp(trans[-1].at, UTC)))
        parts.append((trans[0].is_dst, onsets[0], trans[0], tuple(rule)))
    return tuple(parts)
