"""iTIP (RFC 5546) message builders on top of ``icalendar``: REQUEST, CANCEL, REPLY, feeds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import icalendar

from .model import (
    PARTSTATS,
    Attendee,
    FeedSeries,
    OccurrenceOverride,
    SeriesSpec,
    as_feed_series,
    normalise_email,
)
from .vtimezone import build_vtimezone

PRODID = "-//MentorMatch ASN//Calendar 1.0//ID"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _stamp(spec: SeriesSpec, dtstamp: datetime | None = None) -> datetime:
    value = dtstamp or spec.dtstamp or _now()
    return value.astimezone(UTC).replace(microsecond=0)


def _calendar(method: str | None) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    return cal


def _add_timezones(cal: icalendar.Calendar, spans: dict[str, list[datetime]]) -> None:
    for tzid in sorted(spans):
        points = spans[tzid]
        cal.add_component(build_vtimezone(tzid, min(points), max(points)))


def _organizer(spec: SeriesSpec) -> icalendar.vCalAddress:
    org = icalendar.vCalAddress(f"mailto:{spec.organizer_email}")
    if spec.organizer_name:
        org.params["CN"] = spec.organizer_name
    return org


def _attendee(a: Attendee, partstat: str | None = None) -> icalendar.vCalAddress:
    att = icalendar.vCalAddress(f"mailto:{a.email}")
    att.params["CUTYPE"] = "INDIVIDUAL"
    att.params["ROLE"] = a.role
    att.params["PARTSTAT"] = partstat or a.partstat
    if a.rsvp:
        att.params["RSVP"] = "TRUE"
    if a.name:
        att.params["CN"] = a.name
    return att


def _base_event(
    spec: SeriesSpec, sequence: int, dtstamp: datetime | None, *, partstat: str | None = None
) -> icalendar.Event:
    ev = icalendar.Event()
    ev.add("uid", spec.uid)
    ev.add("dtstamp", _stamp(spec, dtstamp))
    ev.add("sequence", sequence)
    ev.add("summary", spec.summary)
    if spec.description:
        ev.add("description", spec.description)
    if spec.location:
        ev.add("location", spec.location)
    elif spec.url:
        ev.add("location", spec.url)
    if spec.url:
        ev.add("url", spec.url)
    ev.add("organizer", _organizer(spec))
    for a in spec.attendees:
        ev.add("attendee", _attendee(a, partstat))
    return ev


def _in_tz(spec: SeriesSpec, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return value.astimezone(spec.tz)


def _series_event(
    spec: SeriesSpec,
    *,
    sequence: int,
    status: str,
    dtstamp: datetime | None = None,
    extra_exdates: Sequence[datetime] = (),
    partstat: str | None = None,
) -> icalendar.Event:
    ev = _base_event(spec, sequence, dtstamp, partstat=partstat)
    ev.add("dtstart", spec.first_start)
    ev.add("dtend", spec.first_start + spec.duration)
    ev.add("rrule", {"freq": "weekly", "interval": spec.interval_weeks, "count": spec.count})
    exdates = sorted({*spec.exdates, *(_in_tz(spec, x) for x in extra_exdates)})
    if exdates:
        ev.add("exdate", exdates)
    ev.add("status", status)
    ev.add("transp", "OPAQUE")
    return ev


def _check_recurrence_id(spec: SeriesSpec, recurrence_id: datetime) -> datetime:
    rid = _in_tz(spec, recurrence_id)
    if rid not in spec.occurrence_starts():
        raise ValueError(f"{recurrence_id.isoformat()} is not an occurrence of series {spec.uid}")
    return rid


def _moved_span(o: OccurrenceOverride) -> tuple[datetime, datetime]:
    """A moved occurrence's start and end (the model refuses a moved one without them)."""
    if o.start is None or o.end is None:
        raise ValueError("a moved occurrence needs start and end")
    return o.start, o.end


def _occurrence_event(
    spec: SeriesSpec,
    recurrence_id: datetime,
    start: datetime,
    end: datetime,
    *,
    sequence: int,
    status: str,
    dtstamp: datetime | None = None,
) -> icalendar.Event:
    if end <= start:
        raise ValueError("end must be after start")
    ev = _base_event(spec, sequence, dtstamp)
    ev.add("recurrence-id", _in_tz(spec, recurrence_id))
    ev.add("dtstart", _in_tz(spec, start))
    ev.add("dtend", _in_tz(spec, end))
    ev.add("status", status)
    ev.add("transp", "OPAQUE")
    return ev


def _spans(spec: SeriesSpec, *extra: datetime) -> dict[str, list[datetime]]:
    return {spec.tzid: [spec.first_start, spec.last_end(), *extra]}


def build_request(
    spec: SeriesSpec,
    overrides: Sequence[OccurrenceOverride] = (),
    *,
    dtstamp: datetime | None = None,
) -> bytes:
    """METHOD:REQUEST for a whole series (optionally with its moved occurrences)."""
    cal = _calendar("REQUEST")
    extra: list[datetime] = []
    cancelled = [o.recurrence_id for o in overrides if o.cancelled]
    for o in overrides:
        if not o.cancelled:
            extra += [o.start, o.end]  # type: ignore[list-item]
    _add_timezones(cal, _spans(spec, *extra))
    cal.add_component(
        _series_event(
            spec,
            sequence=spec.sequence,
            status="CONFIRMED",
            dtstamp=dtstamp,
            extra_exdates=cancelled,
        )
    )
    for o in overrides:
        if o.cancelled:
            continue
        cal.add_component(
            _occurrence_event(
                spec,
                _check_recurrence_id(spec, o.recurrence_id),
                *_moved_span(o),
                sequence=max(o.sequence, spec.sequence),
                status="CONFIRMED",
                dtstamp=dtstamp,
            )
        )
    return cal.to_ical()


def build_occurrence_request(
    spec: SeriesSpec,
    recurrence_id: datetime,
    new_start: datetime,
    new_end: datetime,
    sequence: int,
    *,
    dtstamp: datetime | None = None,
) -> bytes:
    """METHOD:REQUEST moving one occurrence (``RECURRENCE-ID`` = its original start)."""
    if sequence <= spec.sequence:
        raise ValueError("a rescheduled occurrence needs a SEQUENCE above the series' one")
    rid = _check_recurrence_id(spec, recurrence_id)
    cal = _calendar("REQUEST")
    _add_timezones(cal, {spec.tzid: [rid, new_start, new_end]})
    cal.add_component(
        _occurrence_event(
            spec, rid, new_start, new_end, sequence=sequence, status="CONFIRMED", dtstamp=dtstamp
        )
    )
    return cal.to_ical()


def build_cancel(
    spec: SeriesSpec,
    recurrence_id: datetime | None = None,
    *,
    sequence: int | None = None,
    current_start: datetime | None = None,
    current_end: datetime | None = None,
    dtstamp: datetime | None = None,
) -> bytes:
    """METHOD:CANCEL for the whole series, or for one occurrence when ``recurrence_id`` is given.

    ``sequence`` defaults to ``spec.sequence + 1``. ``current_start``/``current_end`` describe a
    previously moved occurrence.
    """
    seq = spec.sequence + 1 if sequence is None else sequence
    if seq <= spec.sequence:
        raise ValueError("CANCEL must raise SEQUENCE")
    cal = _calendar("CANCEL")
    if recurrence_id is None:
        _add_timezones(cal, _spans(spec))
        cal.add_component(_series_event(spec, sequence=seq, status="CANCELLED", dtstamp=dtstamp))
        return cal.to_ical()
    rid = _check_recurrence_id(spec, recurrence_id)
    start = current_start or rid
    end = current_end or (start + spec.duration)
    _add_timezones(cal, {spec.tzid: [rid, start, end]})
    cal.add_component(
        _occurrence_event(spec, rid, start, end, sequence=seq, status="CANCELLED", dtstamp=dtstamp)
    )
    return cal.to_ical()


def build_feed(
    series: Iterable[SeriesSpec | FeedSeries],
    *,
    name: str = "MentorMatch",
    dtstamp: datetime | None = None,
    refresh: timedelta = timedelta(hours=1),
) -> bytes:
    """A METHOD-less VCALENDAR for a person's subscription feed (all series and overrides)."""
    items = as_feed_series(series)
    cal = _calendar(None)
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(refresh))  # "PT1H", not "1:00:00"
    spans: dict[str, list[datetime]] = {}
    events: list[icalendar.Event] = []
    for item in items:
        spec = item.spec
        pts = spans.setdefault(spec.tzid, [])
        pts += [spec.first_start, spec.last_end()]
        cancelled = [o.recurrence_id for o in item.overrides if o.cancelled]
        events.append(
            _series_event(
                spec,
                sequence=spec.sequence,
                status="CANCELLED" if item.cancelled else "CONFIRMED",
                dtstamp=dtstamp,
                extra_exdates=cancelled,
            )
        )
        for o in item.overrides:
            if o.cancelled:
                continue
            start, end = _moved_span(o)
            pts += [start, end]
            events.append(
                _occurrence_event(
                    spec,
                    _check_recurrence_id(spec, o.recurrence_id),
                    start,
                    end,
                    sequence=max(o.sequence, spec.sequence),
                    status="CANCELLED" if item.cancelled else "CONFIRMED",
                    dtstamp=dtstamp,
                )
            )
    _add_timezones(cal, spans)
    for ev in events:
        cal.add_component(ev)
    return cal.to_ical()


def build_reply(
    spec: SeriesSpec,
    attendee_email: str,
    partstat: str,
    *,
    recurrence_id: datetime | None = None,
    sequence: int | None = None,
    dtstamp: datetime | None = None,
    comment: str = "",
) -> bytes:
    """METHOD:REPLY from one attendee (tests, one-click links, in-app buttons)."""
    partstat = partstat.upper()
    if partstat not in PARTSTATS or partstat == "NEEDS-ACTION":
        raise ValueError(f"PARTSTAT {partstat!r} is not a reply")
    email = normalise_email(attendee_email)
    match = [a for a in spec.attendees if a.email == email]
    attendee = match[0] if match else Attendee(email)
    cal = _calendar("REPLY")
    ev = icalendar.Event()
    ev.add("uid", spec.uid)
    ev.add("dtstamp", _stamp(spec, dtstamp or _now()))
    ev.add("sequence", spec.sequence if sequence is None else sequence)
    ev.add("organizer", _organizer(spec))
    att = icalendar.vCalAddress(f"mailto:{attendee.email}")
    att.params["PARTSTAT"] = partstat
    if attendee.name:
        att.params["CN"] = attendee.name
    ev.add("attendee", att)
    if recurrence_id is not None:
        rid = _check_recurrence_id(spec, recurrence_id)
        _add_timezones(cal, {spec.tzid: [rid]})
        ev.add("recurrence-id", rid)
        ev.add("dtstart", rid)
        ev.add("dtend", rid + spec.duration)
    else:
        _add_timezones(cal, _spans(spec))
        ev.add("dtstart", spec.first_start)
        ev.add("dtend", spec.first_start + spec.duration)
        ev.add("rrule", {"freq": "weekly", "interval": spec.interval_weeks, "count": spec.count})
        if spec.exdates:
            ev.add("exdate", list(spec.exdates))
    if comment:
        ev.add("comment", comment)
    cal.add_component(ev)
    return cal.to_ical()
