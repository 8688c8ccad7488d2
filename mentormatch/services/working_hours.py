"""Dated working-hours overrides an admin adds (Ramadan hours set by each year's circular).
The hours themselves are read through `session_times.working_spans`, the one definition."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Actor, WorkingHoursOverride
from . import audit
from .errors import ServiceError
from .session_times import _minutes, overrides

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

ERRORS: dict[str, Any] = {
    "name": _l("Give the override a name (e.g. Ramadan 1448 H)."),
    "date": _l("Dates must look like 2027-02-08."),
    "period": _l("The last day must not be before the first."),
    "time": _l("Times must look like 08:00 (24-hour clock)."),
    "span": _l("Each working day must end after it starts, with the break inside it."),
    "overlap": _l("These dates overlap another working-hours override."),
}


class HoursError(ServiceError):
    @property
    def message(self) -> str:
        return str(ERRORS[self.code])

    def user_message(self) -> str:
        return self.message


def _time(value: str, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value and not required:
        return None
    if not _HHMM.match(value):
        raise HoursError("time")
    return value


def _day(value: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise HoursError("date") from exc


def _check_span(start: str, end: str, b1: str | None, b2: str | None) -> None:
    if _minutes(end) <= _minutes(start):
        raise HoursError("span")
    if (b1 is None) != (b2 is None):
        raise HoursError("span")
    if b1 is not None and b2 is not None and not (
            _minutes(start) < _minutes(b1) < _minutes(b2) < _minutes(end)):
        raise HoursError("span")


def add_override(actor: Actor, form: dict[str, str]) -> WorkingHoursOverride:
    """Validate and add one override (flushes). Raises :class:`HoursError`."""
    name = (form.get("name") or "").strip()[:100]
    if not name:
        raise HoursError("name")
    start, end = _day(form.get("from", "")), _day(form.get("to", ""))
    if end < start:
        raise HoursError("period")
    t = {k: _time(form.get(k, ""), required=not k.endswith(("break_start", "break_end")))
         for k in ("mon_thu_start", "mon_thu_end", "mon_thu_break_start", "mon_thu_break_end",
                   "fri_start", "fri_end", "fri_break_start", "fri_break_end")}
    _check_span(t["mon_thu_start"], t["mon_thu_end"], t["mon_thu_break_start"],  # type: ignore[arg-type]
                t["mon_thu_break_end"])
    _check_span(t["fri_start"], t["fri_end"], t["fri_break_start"], t["fri_break_end"])  # type: ignore[arg-type]
    if any(o["from"] <= end and start <= o["to"] for o in overrides()):
        raise HoursError("overlap")
    row = WorkingHoursOverride(name=name, start_date=start, end_date=end,
                               created_by_id=getattr(actor, "id", None), **t)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "working_hours.override_add", row, name=name,
                 start=start.isoformat(), end=end.isoformat())
    return row
