"""One cell's value as the rules read it: text, NIP, e-mail, level, time windows, leave,
time zone and the zone a work location implies."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from .. import zones
from ..nip import normalise_nip

KNOWN_CITIES = {
    "padang": "Asia/Jakarta", "pauh": "Asia/Jakarta", "palembang": "Asia/Jakarta",
    "plaju": "Asia/Jakarta", "surabaya": "Asia/Jakarta", "mulyorejo": "Asia/Jakarta",
    "bandung": "Asia/Jakarta", "jakarta": "Asia/Jakarta", "palu": "Asia/Makassar",
    "makassar": "Asia/Makassar", "jayapura": "Asia/Jayapura",
}
_TZ_ALIASES = {"wib": "Asia/Jakarta", "wita": "Asia/Makassar", "wit": "Asia/Jayapura"}

_DAYS = {
    "sen": 0, "senin": 0, "mon": 0, "monday": 0,
    "sel": 1, "selasa": 1, "tue": 1, "tues": 1, "tuesday": 1,
    "rab": 2, "rabu": 2, "wed": 2, "wednesday": 2,
    "kam": 3, "kamis": 3, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "jum": 4, "jumat": 4, "jum'at": 4, "fri": 4, "friday": 4,
    "sab": 5, "sabtu": 5, "sat": 5, "saturday": 5,
    "min": 6, "minggu": 6, "ahad": 6, "sun": 6, "sunday": 6,
}
_WINDOW_RE = re.compile(
    r"^([A-Za-z']+)\.?\s+(\d{1,2})[:.](\d{2})\s*[-–]\s*(\d{1,2})[:.](\d{2})$"
)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is str:
        text = value.strip()
        if "  " not in text and "\n" not in text and "\t" not in text and "\r" not in text:
            return text
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", str(value)).strip()


def nip_text(value: Any) -> tuple[str, str | None]:
    """(nip text, error code or None); a float NIP from Excel has lost digits."""
    if isinstance(value, float):
        if value >= 1e15:
            return cell_text(value), "nip_as_number"
        value = int(value)
    if isinstance(value, int):
        return str(value), None
    return normalise_nip(value), None


_PLAIN_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63})$"
)
_SPECIAL_TLDS = {"arpa", "invalid", "local", "localhost", "onion", "test"}


def parse_email(raw: str) -> str:
    """Normalised (lower-case) address or "" if invalid. Plain ASCII addresses take a fast
    path (20,000 rows); anything else goes through email-validator."""
    match = _PLAIN_EMAIL.match(raw)
    if (match and len(raw) <= 254 and raw.index("@") <= 64
            and match.group(1).lower() not in _SPECIAL_TLDS):
        return raw.lower()
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return ""


def parse_level(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = cell_text(value)
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise ValueError(text)
    return int(text)


def parse_windows(text: str) -> list[tuple[int, int, int]]:
    """'Sen 09:00-12:00; Kam 13:00-15:00' -> [(0, 540, 720), (3, 780, 900)]."""
    out = []
    for part in re.split(r"[;\n]+", text):
        part = part.strip().rstrip(",")
        if not part:
            continue
        match = _WINDOW_RE.match(part)
        day = _DAYS.get(match.group(1).lower()) if match else None
        if match is None or day is None:
            raise ValueError("window_format", part)
        h1, m1, h2, m2 = (int(g) for g in match.groups()[1:])
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError("window_format", part)
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start >= end:
            raise ValueError("window_order", part)
        out.append((day, start, end))
    return sorted(set(out))


def parse_leaves(value: Any) -> list[tuple[date, date]]:
    if isinstance(value, datetime):
        return [(value.date(), value.date())]
    if isinstance(value, date):
        return [(value, value)]
    out = []
    for part in re.split(r"[;\n]+", cell_text(value)):
        part = part.strip()
        if not part:
            continue
        ends = [p.strip() for p in re.split(r"\.\.|\s+s/d\s+|\s+to\s+", part)]
        if len(ends) == 1:
            ends = ends * 2
        if len(ends) != 2:
            raise ValueError(part)
        try:
            start, end = date.fromisoformat(ends[0]), date.fromisoformat(ends[1])
        except ValueError as exc:
            raise ValueError(part) from exc
        if end < start:
            raise ValueError(part)
        out.append((start, end))
    return sorted(set(out))


def parse_timezone(raw: str) -> str | None:
    if not raw:
        return None
    name = _TZ_ALIASES.get(raw.lower(), raw)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: name too long
        return None
    return name


def city_of(location: str) -> str:
    return location.split("(")[0].strip() or location


def zone_for(location: str) -> str | None:
    key = city_of(location).lower()
    for word in (key, location.lower(), *re.findall(r"[a-z]+", location.lower())):
        if word in KNOWN_CITIES:
            return KNOWN_CITIES[word]
    found = zones.infer_zone(location)
    return found[0] if found else None
