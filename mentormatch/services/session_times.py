"""Is a proposed session time acceptable for both people? Working hours in each person's own zone
(Perpres 21/2023, config `[working_hours]`), public holidays and cuti bersama, leave, and clashes
with their other mentoring sessions. Raises `LogError` with the first problem found."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from ..calendar.holidays import holiday_name
from ..extensions import db
from ..models import LeaveDate, Pair, Person, Session, SessionSeries, WorkingHoursOverride
from ..settings import settings
from .participant_errors import LogError
from .timefmt import format_local

Span = tuple[int, int]  # minutes after local midnight, [start, end)
#: the keys of `[working_hours]` (and of each dated override): mon_thu, mon_thu_break, fri,
#: friday_break, each [from, to] (a break may be empty or None: no break)
Hours = Mapping[str, Any]


def _minutes(hhmm: str) -> int:
    hours, _sep, mins = str(hhmm).partition(":")
    return int(hours) * 60 + int(mins or 0)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _cut(span: Span, gap: Span | None) -> list[Span]:
    if gap is None or gap[1] <= span[0] or gap[0] >= span[1]:
        return [span]
    return [s for s in ((span[0], gap[0]), (gap[1], span[1])) if s[0] < s[1]]


def _spans_of(hours: Hours) -> dict[int, list[Span]]:
    mon_thu, fri = hours["mon_thu"], hours["fri"]
    mt_break, fr_break = hours["mon_thu_break"], hours["friday_break"]
    mt = _cut((_minutes(mon_thu[0]), _minutes(mon_thu[1])),
              (_minutes(mt_break[0]), _minutes(mt_break[1])) if mt_break else None)
    fr = _cut((_minutes(fri[0]), _minutes(fri[1])),
              (_minutes(fr_break[0]), _minutes(fr_break[1])) if fr_break else None)
    return {0: mt, 1: list(mt), 2: list(mt), 3: list(mt), 4: fr}


def overrides() -> list[dict[str, Any]]:
    """Dated working-hours overrides (Ramadan hours): the ones shipped in
    `[[working_hours.overrides]]` and the ones an admin added, each with `from`/`to` dates."""
    out = []
    for o in settings().working_hours.overrides:
        out.append({**o.model_dump(by_alias=True), "from": date.fromisoformat(o.from_),
                    "to": date.fromisoformat(o.to)})
    for row in db.session.scalars(select(WorkingHoursOverride)
                                  .order_by(WorkingHoursOverride.start_date)):
        out.append(row.as_config())
    return sorted(out, key=lambda o: o["from"])


def working_spans(day: date | None = None) -> dict[int, list[Span]]:
    """Working spans per weekday (0 = Monday), breaks cut out: `[working_hours]` (`mon_thu`,
    `mon_thu_break`, `fri`, `friday_break`), or on ``day`` the dated override covering it.
    Saturday and Sunday are off. The one definition: the solver gets the regular week."""
    if day is not None:
        for o in overrides():
            if o["from"] <= day <= o["to"]:
                return _spans_of(o)
    return _spans_of(settings().working_hours.model_dump(exclude={"overrides"}))


def weekly_minutes(spans: dict[int, list[Span]] | None = None) -> int:
    """Working minutes of a week (breaks excluded): 2,250 (37.5 h) by default."""
    spans = working_spans() if spans is None else spans
    return sum(b - a for day in spans.values() for a, b in day)


def solver_hours() -> dict[int, tuple[Span, ...]]:
    """The regular week as the solver's `SolverConfig.working_hours`."""
    return {d: tuple(spans) for d, spans in working_spans().items()}


def hours_text(day: date | None = None) -> str:
    """'Mon–Thu 07:30–12:00, 13:00–16:00; Fri 07:30–11:30, 13:00–16:30' in the viewer's
    language (the hours of ``day`` when an override covers it)."""
    spans = working_spans(day)

    def fmt(d: int) -> str:
        return ", ".join(f"{_hhmm(a)}–{_hhmm(b)}" for a, b in spans[d])

    return str(_("Mon–Thu %(mon_thu)s; Fri %(fri)s (local time)", mon_thu=fmt(0), fri=fmt(4)))


def within_working_hours(start: datetime, end: datetime, tz: str) -> bool:
    """The whole of [start, end) inside one working span of the local weekday (that date's
    hours: a Ramadan override applies on its dates)."""
    local_start = start.astimezone(ZoneInfo(tz))
    first = local_start.hour * 60 + local_start.minute
    last = first + int((end - start).total_seconds() // 60)
    spans = working_spans(local_start.date())
    return any(a <= first and last <= b for a, b in spans.get(local_start.weekday(), []))


def _on_leave(person: Person, day: date) -> bool:
    return db.session.scalar(select(LeaveDate.id).where(
        LeaveDate.person_id == person.id, LeaveDate.start_date <= day,
        LeaveDate.end_date >= day).limit(1)) is not None


def clash(person: Person, start: datetime, end: datetime,
          exclude_session_id: int | None = None) -> Session | None:
    """Another planned or held session of this person (either role) overlapping [start, end)."""
    stmt = (select(Session).join(SessionSeries, SessionSeries.id == Session.series_id)
            .join(Pair, Pair.id == SessionSeries.pair_id)
            .where(or_(Pair.mentor_id == person.id, Pair.mentee_id == person.id),
                   Session.status.in_(("scheduled", "held")),
                   Session.start_at < end, Session.end_at > start)
            .order_by(Session.start_at).limit(1))
    if exclude_session_id is not None:
        stmt = stmt.where(Session.id != exclude_session_id)
    return db.session.scalar(stmt)


def _shown(value: datetime, tz: str, fmt: str = "full") -> Callable[[], str]:
    """A time for an error message, formatted when the message is shown (viewer's language)."""
    return lambda: format_local(value, tz, str(get_locale() or "id"), fmt)


def check_slot(start: datetime, end: datetime, people: Sequence[Person], *,
               exclude_session_id: int | None = None) -> None:
    """Refuse a time outside anyone's working hours, on a holiday or leave day, or clashing.
    Each person's rules apply in their own zone (a WIB mentor's 14:30 is 15:30 in WITA)."""
    for person in people:
        tz = person.timezone
        day = start.astimezone(ZoneInfo(tz)).date()
        if not within_working_hours(start, end, tz):
            raise LogError("outside_working_hours", name=person.name, time=_shown(start, tz),
                           hours=lambda d=day: hours_text(d))
        name = holiday_name(day)
        if name:
            raise LogError("holiday", name=person.name, date=_shown(start, tz, "date"),
                           holiday=name)
        if _on_leave(person, day):
            raise LogError("on_leave", name=person.name, date=_shown(start, tz, "date"))
    for person in people:
        other = clash(person, start, end, exclude_session_id)
        if other is not None:
            raise LogError("clash", name=person.name, time=_shown(other.start_at, person.timezone))
