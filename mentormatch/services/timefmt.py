"""Times shown in each person's own zone, with the Indonesian zone names people use."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

#: Monday first, as ``date.weekday()``; lazy strings, each shown in the reader's language
WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
            _l("Saturday"), _l("Sunday"))
_ABBREV = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
           "Asia/Jayapura": "WIT"}


def tz_abbrev(tz: str, at: datetime | None = None) -> str:
    if tz in _ABBREV:
        return _ABBREV[tz]
    return (at or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(tz)).tzname() or tz


def weekday_name(index: int) -> str:
    """The day (0 = Monday) in the current locale."""
    return str(WEEKDAYS[index])


def day_text(value: date, locale: str | None = None) -> str:
    """A plain date as the reader writes it ("9 Sep 2026"), in ``locale`` or the current one."""
    loc = locale or str(get_locale() or "id")
    return format_date(value, "d MMM yyyy", locale="id_ID" if loc == "id" else "en_GB")


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
