"""One calendar per person: the time a person is already taken, across every programme.

A person's busy time is every live session (planned or held, not cancelled) of every series
they attend, in any programme, as UTC intervals. It is read by the solver (through the bridge,
which removes the weekly slots whose occurrences collide with it), by hand-set pairs, by
approval (which refuses while a clash remains), by reschedules and by COUNTER proposals.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Attendee, Pair, Person, Programme, Session, SessionSeries

#: session states that hold a person's time
BUSY_STATES = ("scheduled", "held")


@dataclass(frozen=True)
class Busy:
    """One interval a person is taken: [start, end) UTC, and by which session."""

    start: datetime
    end: datetime
    session_id: int
    series_id: int
    programme_id: int
    programme: str


def busy_intervals(person_ids: Iterable[int], *, start: datetime | None = None,
                   end: datetime | None = None, exclude_programme_id: int | None = None,
                   exclude_series_id: int | None = None) -> dict[int, list[Busy]]:
    """Each person's busy intervals (sorted by start) overlapping [start, end): one query."""
    ids = sorted(set(person_ids))
    out: dict[int, list[Busy]] = defaultdict(list)
    if not ids:
        return out
    stmt = (select(Attendee.person_id, Session.start_at, Session.end_at, Session.id,
                   SessionSeries.id, Pair.programme_id, Programme.name)
            .join(SessionSeries, SessionSeries.id == Attendee.series_id)
            .join(Session, Session.series_id == SessionSeries.id)
            .join(Pair, Pair.id == SessionSeries.pair_id)
            .join(Programme, Programme.id == Pair.programme_id)
            .where(Attendee.person_id.in_(ids), Session.status.in_(BUSY_STATES))
            .order_by(Attendee.person_id, Session.start_at, Session.id))
    if start is not None:
        stmt = stmt.where(Session.end_at > start)
    if end is not None:
        stmt = stmt.where(Session.start_at < end)
    if exclude_programme_id is not None:
        stmt = stmt.where(Pair.programme_id != exclude_programme_id)
    if exclude_series_id is not None:
        stmt = stmt.where(SessionSeries.id != exclude_series_id)
    for pid, s, e, sid, serid, prog_id, prog_name in db.session.execute(stmt):
        out[pid].append(Busy(s, e, sid, serid, prog_id, prog_name))
    return out


def overlapping(busy: Sequence[Busy], start: datetime, end: datetime) -> Busy | None:
    """The first of ``busy`` (sorted by start) that overlaps [start, end)."""
    starts = [b.start for b in busy]
    i = bisect_left(starts, end)  # everything from i on starts at or after `end`
    for b in busy[:i]:
        if b.end > start:
            return b
    return None


@dataclass(frozen=True)
class Clash:
    """A planned session of ``person`` at ``start`` that collides with ``busy``."""

    person_id: int
    start: datetime
    busy: Busy


def clashes(planned: Iterable[tuple[int, datetime, datetime]],
            busy: dict[int, list[Busy]]) -> list[Clash]:
    """Which of the planned (person, start, end) sessions collide with the person's busy time."""
    out = []
    for pid, s, e in planned:
        hit = overlapping(busy.get(pid, ()), s, e)
        if hit is not None:
            out.append(Clash(pid, s, hit))
    return out


def first_clash(people: Sequence[Person], start: datetime, end: datetime, *,
                exclude_series_id: int | None = None,
                exclude_session_id: int | None = None) -> tuple[Person, Busy] | None:
    """The first of ``people`` already taken during [start, end), with the session taking it."""
    busy = busy_intervals([p.id for p in people], start=start, end=end,
                          exclude_series_id=exclude_series_id)
    for p in people:
        for b in busy.get(p.id, ()):
            if b.session_id != exclude_session_id:
                return p, b
    return None
