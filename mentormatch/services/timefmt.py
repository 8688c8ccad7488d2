"""Times shown in each person's own zone, with the Indonesian zone names people use."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

WEEKDAYS = {
    "id": ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
_ABBREV = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
           "Asia/Jayapura": "WIT"}


def tz_abbrev(tz: str, at: datetime | None = None) -> str:
    if tz in _ABBREV:
        return _ABBREV[tz]
    return (at or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(tz)).tzname() or tz


def minutes_to_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@lru_cache(maxsize=4096)
def format_local(value: datetime, tz: str, locale: str = "id", fmt: str = "full") -> str:
    """``value`` as a person in ``tz`` reads it. A pure function of its arguments, kept for
    the times pages show again and again (a home's sessions, a list's dates): Babel's
    formatting is the largest part of rendering such a page."""
    local = value.astimezone(ZoneInfo(tz))
    pattern = {"full": "EEEE, d MMM yyyy HH:mm", "date": "d MMM yyyy", "time": "HH:mm"}[fmt]
    text = format_datetime(local, pattern, locale="id_ID" if locale == "id" else "en_GB")
    return text if fmt == "date" else f"{text} {tz_abbrev(tz, value)}"
