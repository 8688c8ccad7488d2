"""Times shown in each person's own zone, with the Indonesian zone names people use."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask_babel import get_locale
from flask_babel import gettext as _
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


def format_day(value: date | None, locale: str | None = None) -> str:
    """A calendar date as the reader writes it: "9 Sep 2026" (not "2026-09-09")."""
    if value is None:
        return "-"
    loc = locale or str(get_locale() or "id")
    return format_date(value, "d MMM yyyy", locale="id_ID" if loc == "id" else "en_GB")


def format_duration(minutes: int) -> str:
    """A length of time as people say it: "6 jam 15 menit", "3 jam", "45 menit" (a clock
    time such as "06:15 jam" reads as a time of day)."""
    h, m = divmod(int(minutes), 60)
    if h and m:
        return str(_("%(h)s h %(m)s min", h=h, m=m))
    if h:
        return str(_("%(h)s h", h=h))
    return str(_("%(m)s min", m=m))


def format_month(value: str, locale: str | None = None) -> str:
    """A "YYYY-MM" month as the reader writes it: "Sep 2026"."""
    try:
        y, m = (int(x) for x in value.split("-")[:2])
        month = date(y, m, 1)
    except ValueError:
        return value
    loc = locale or str(get_locale() or "id")
    return format_date(month, "MMM yyyy", locale="id_ID" if loc == "id" else "en_GB")
