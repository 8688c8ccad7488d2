"""Plain, typed value objects for the calendar layer (no database, no Flask).

All datetimes are timezone-aware. ``SeriesSpec.count`` is the RRULE ``COUNT``: it includes the
occurrences removed again by ``exdates`` (see ``holidays.plan_occurrences``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROLES = frozenset({"REQ-PARTICIPANT", "OPT-PARTICIPANT", "CHAIR", "NON-PARTICIPANT"})
PARTSTATS = frozenset({"NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"})
#: PARTSTAT values an attendee may send back in a REPLY.
REPLY_PARTSTATS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"})


def normalise_email(value: str) -> str:
    """``'MAILTO:Budi@Example.go.id '`` -> ``'budi@example.go.id'``."""
    text = str(value).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:]
    return text.strip().lower()


def zone(tzid: str) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA id; ``ValueError`` for an unknown one."""
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tzid!r}") from exc


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


@dataclass(frozen=True, slots=True)
class Attendee:
    email: str
    name: str = ""
    role: str = "REQ-PARTICIPANT"
    partstat: str = "NEEDS-ACTION"
    rsvp: bool = True

    def __post_init__(self) -> None:
        email = normalise_email(self.email)
        if "@" not in email:
            raise ValueError(f"attendee e-mail {self.email!r} is not an address")
        object.__setattr__(self, "email", email)
        if self.role not in ROLES:
            raise ValueError(f"unknown ROLE {self.role!r}")
        if self.partstat not in PARTSTATS:
            raise ValueError(f"unknown PARTSTAT {self.partstat!r}")


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    """One recurring session series = one iCalendar UID.

    ``first_start`` is converted to ``tzid``; weekly recurrence keeps the wall-clock time in
    ``tzid`` (as RFC 5545 RRULE expansion does), so a DST change keeps the local hour.
    """

    uid: str
    sequence: int
    summary: str
    organizer_email: str
    tzid: str
    first_start: datetime
    duration: timedelta
    interval_weeks: int = 1
    count: int = 1
    description: str = ""
    location: str = ""
    url: str = ""
    organizer_name: str = ""
    exdates: tuple[datetime, ...] = ()
    attendees: tuple[Attendee, ...] = ()
    dtstamp: datetime | None = None

    def __post_init__(self) -> None:
        if not self.uid or any(c in self.uid for c in "\r\n"):
            raise ValueError("uid must be a non-empty single line")
        if self.sequence < 0:
            raise ValueError("sequence must be >= 0")
        if self.interval_weeks < 1:
            raise ValueError("interval_weeks must be >= 1")
        if self.count < 1:
            raise ValueError("count must be >= 1")
        if self.duration <= timedelta(0):
            raise ValueError("duration must be positive")
        tz = zone(self.tzid)
        _require_aware("first_start", self.first_start)
        object.__setattr__(self, "first_start", self.first_start.astimezone(tz))
        exdates = tuple(self.exdates)
        for ex in exdates:
            _require_aware("exdate", ex)
        object.__setattr__(self, "exdates", tuple(sorted(ex.astimezone(tz) for ex in exdates)))
        object.__setattr__(self, "attendees", tuple(self.attendees))
        object.__setattr__(self, "organizer_email", normalise_email(self.organizer_email))
        if self.dtstamp is not None:
            _require_aware("dtstamp", self.dtstamp)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.tzid)

    def rrule_starts(self) -> list[datetime]:
        """All ``count`` starts the RRULE generates, EXDATEs included (aware, in ``tzid``)."""
        return recurrence_starts(self.first_start, self.interval_weeks, self.count, self.tz)

    def occurrence_starts(self) -> list[datetime]:
        """The real sessions: RRULE starts minus EXDATEs (aware, in ``tzid``)."""
        excluded = {ex.astimezone(ZoneInfo("UTC")) for ex in self.exdates}
        return [s for s in self.rrule_starts() if s.astimezone(ZoneInfo("UTC")) not in excluded]

    def last_end(self) -> datetime:
        return self.rrule_starts()[-1] + self.duration


def recurrence_starts(
    first_start: datetime, interval_weeks: int, count: int, tz: ZoneInfo
) -> list[datetime]:
    """Weekly wall-clock recurrence in ``tz`` (what ``FREQ=WEEKLY`` means with a TZID)."""
    local = first_start.astimezone(tz).replace(tzinfo=None)
    out: list[datetime] = []
    for k in range(count):
        wall = local + timedelta(weeks=interval_weeks * k)
        # Round-trip through UTC so a wall time in a DST gap becomes a real instant.
        out.append(wall.replace(tzinfo=tz).astimezone(ZoneInfo("UTC")).astimezone(tz))
    return out


@dataclass(frozen=True, slots=True)
class OccurrenceOverride:
    """A changed single session of a series: moved (``start``/``end``) or cancelled."""

    recurrence_id: datetime
    start: datetime | None = None
    end: datetime | None = None
    sequence: int = 0
    cancelled: bool = False

    def __post_init__(self) -> None:
        _require_aware("recurrence_id", self.recurrence_id)
        if not self.cancelled:
            if self.start is None or self.end is None:
                raise ValueError("a moved occurrence needs start and end")
            _require_aware("start", self.start)
            _require_aware("end", self.end)
            if self.end <= self.start:
                raise ValueError("end must be after start")


@dataclass(frozen=True, slots=True)
class FeedSeries:
    """A series as it appears in a person's subscription feed."""

    spec: SeriesSpec
    overrides: tuple[OccurrenceOverride, ...] = field(default=())
    cancelled: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", tuple(self.overrides))


def as_feed_series(items: Iterable[SeriesSpec | FeedSeries]) -> list[FeedSeries]:
    return [i if isinstance(i, FeedSeries) else FeedSeries(i) for i in items]
