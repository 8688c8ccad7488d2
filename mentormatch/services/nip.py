"""NIP (Nomor Induk Pegawai) parsing for PNS and PPPK.

PNS: birth date YYYYMMDD + CPNS appointment YYYYMM + gender (1/2) + sequence 001-999.
PPPK numbers are 18 digits too, but digits 13-14 read 21-29 where a PNS has the month.
Plausibility: a birth year of someone who can be in service, an appointment (TMT) at 18 or
later and not in the future, and no PPPK appointment before PPPK existed (2019).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_DIGITS = re.compile(r"\d{18}")


@dataclass(frozen=True)
class Nip:
    value: str
    kind: str  # "pns" | "pppk"
    birth_date: date
    appointment_year: int
    appointment_month: int | None  # None for PPPK (digits 13-14 are not a month)
    gender: str  # "L" | "P"
    sequence: int


class NipError(ValueError):
    """`code` names the problem so the message can be given in the user's language."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code if not detail else f"{code}: {detail}")
        self.code = code
        self.detail = detail


def normalise_nip(raw: object) -> str:
    """Strip spaces and separators people paste; Excel may hand us a float or int."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return re.sub(r"[\s.\-']", "", str(raw or ""))


#: an appointment (TMT CPNS / PPPK) at 18 at the earliest (UU 20/2023: minimum age 18)
MIN_AGE_AT_APPOINTMENT = 18
#: nobody in service is older than this (retirement at 58-65; a margin for late records)
MAX_AGE = 75
#: PPPK appointments began in 2019 (PP 49/2018, first intake 2019)
PPPK_FIRST_YEAR = 2019


def parse_nip(raw: object, today: date | None = None) -> Nip:
    """Parse and check a NIP against ``today`` (default: the current date)."""
    today = today or date.today()
    text = normalise_nip(raw)
    if not _DIGITS.fullmatch(text):
        raise NipError("nip_format", text)
    try:
        birth = date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:
        raise NipError("nip_birth_date", text[0:8]) from exc
    year, month = int(text[8:12]), int(text[12:14])
    if 21 <= month <= 29:
        kind, appointment_month = "pppk", None
    elif 1 <= month <= 12:
        kind, appointment_month = "pns", month
    else:
        raise NipError("nip_appointment_month", text[12:14])
    if (year, month if appointment_month else 12) <= (
        birth.year, birth.month
    ):
        raise NipError("nip_appointment_before_birth", text[8:14])
    if not today.year - MAX_AGE <= birth.year <= today.year - MIN_AGE_AT_APPOINTMENT:
        raise NipError("nip_birth_year", text[0:4])
    months_old = (year - birth.year) * 12 + ((appointment_month or 12) - birth.month)
    if year - birth.year < MIN_AGE_AT_APPOINTMENT or (
            appointment_month is not None and months_old < MIN_AGE_AT_APPOINTMENT * 12):
        raise NipError("nip_too_young", text[8:14])
    if (year, appointment_month or 1) > (today.year, today.month):
        raise NipError("nip_appointment_future", text[8:14])
    if kind == "pppk" and year < PPPK_FIRST_YEAR:
        raise NipError("nip_pppk_year", text[8:12])
    if text[14] not in "12":
        raise NipError("nip_gender", text[14])
    sequence = int(text[15:18])
    if sequence == 0:
        raise NipError("nip_sequence", text[15:18])
    return Nip(
        value=text,
        kind=kind,
        birth_date=birth,
        appointment_year=year,
        appointment_month=appointment_month,
        gender="L" if text[14] == "1" else "P",
        sequence=sequence,
    )
