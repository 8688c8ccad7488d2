"""What each problem code says to the coordinator.

An ``ImportIssue`` keeps a code and the offending value, not a sentence: the preview page, the
errors CSV, the API and the CLI render it in their reader's language, through gettext like
every other UI string (English msgids, the Indonesian text in the catalogue). Without an
application there is no catalogue: messages then come in English."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

#: code -> message, translated when shown; ``%(value)s`` is the offending value
MESSAGES: dict[str, LazyString] = {
    "missing_column": _l("Required column missing: %(value)s"),
    "unknown_column": _l("Unknown competency target column (not in the catalogue): %(value)s"),
    "ignored_columns": _l(
        "These columns are not recognised and were ignored (if one is a competency, add it to "
        "the catalogue first): %(value)s"),
    "duplicate_column": _l("Column appears more than once: %(value)s"),
    "bad_file": _l("The file cannot be read as CSV or XLSX: %(value)s"),
    "empty_file": _l("The file contains no data."),
    "formula_no_value": _l(
        "Cell holds a formula with no cached value (open and save it in Excel): %(value)s"),
    "required": _l("Required."),
    "nip_format": _l("NIP must be 18 digits: %(value)s"),
    "nip_as_number": _l("NIP stored as a number lost digits; format the column as Text: %(value)s"),
    "nip_birth_date": _l("Birth date in the NIP is not a real date: %(value)s"),
    "nip_appointment_month": _l(
        "Appointment month in the NIP is invalid (01-12, PPPK 21-29): %(value)s"),
    "nip_appointment_before_birth": _l(
        "Appointment date in the NIP is implausible (before or too close to birth): %(value)s"),
    "nip_appointment_future": _l("Appointment date (TMT) in the NIP is in the future: %(value)s"),
    "nip_birth_year": _l("Birth year in the NIP is implausible for serving staff: %(value)s"),
    "nip_too_young": _l("Appointment (TMT) in the NIP before the age of 18: %(value)s"),
    "nip_pppk_year": _l(
        "PPPK NIP with an appointment year before 2019 (PPPK did not exist yet): %(value)s"),
    "nip_gender": _l("Gender digit in the NIP must be 1 or 2: %(value)s"),
    "nip_sequence": _l("Sequence number in the NIP cannot be 000: %(value)s"),
    "nip_for_external": _l("External mentors have no NIP: %(value)s"),
    "kind": _l("Type must be PNS, PPPK or External: %(value)s"),
    "kind_mismatch": _l("This NIP belongs to a %(value)s, which does not match the Type column."),
    "grade": _l("Invalid grade (e.g. III/a, 3a, PPPK IX): %(value)s"),
    "grade_kind": _l("Grade does not fit the employee type: %(value)s"),
    "job_level": _l("Unknown job level: %(value)s"),
    "email": _l("Invalid e-mail address: %(value)s"),
    "email_taken": _l("E-mail already belongs to someone else in the database: %(value)s"),
    "duplicate_nip": _l("Duplicate NIP in the file (see row %(value)s)."),
    "duplicate_email": _l("Duplicate e-mail in the file (see row %(value)s)."),
    "level": _l("Level must be a whole number 1-5: %(value)s"),
    "window_format": _l("Invalid time window (e.g. Mon 09:00-12:00; Thu 13:00-15:00): %(value)s"),
    "window_order": _l("Start time must be before end time: %(value)s"),
    "leave": _l("Invalid leave dates (e.g. 2026-12-01..2026-12-05): %(value)s"),
    "timezone": _l("Unknown time zone: %(value)s"),
    "zone_unknown": _l(
        "The time zone cannot be known (no location, province or city in the unit): fill in the"
        " Time zone column or choose a zone for this file: %(value)s"),
    "timezone_required": _l(
        "Unknown city; fill in the Time zone column (Asia/Jakarta, Asia/Makassar, "
        "Asia/Jayapura): %(value)s"),
    "mode": _l("Mode must be online, in person or either: %(value)s"),
    "supervisor_unknown": _l(
        "Supervisor NIP found neither in the file nor in the database: %(value)s"),
    "supervisor_self": _l("A person cannot be their own supervisor: %(value)s"),
    "organisation_required": _l("External mentors need an Organisation."),
    "too_long": _l("Text too long: %(value)s"),
    "control_chars": _l("A name cannot contain line breaks or control characters: %(value)s"),
    "too_many_rows": _l(
        "The file holds more than %(value)s data rows. Split it and upload the parts one by "
        "one."),
    "too_slow": _l(
        "The file is too big or complex to check within %(value)s seconds. Save it as CSV or "
        "split it into several files."),
    "too_many_columns": _l(
        "The header row has more than %(value)s columns; delete the empty columns on the right."),
    "stopped_at_empty": _l(
        "Reading stopped after %(value)s empty rows in a row; rows below are ignored."),
}


def reader_locale(locale: str | None) -> str:
    """Indonesian unless English was asked for (``en``, ``en_GB``...)."""
    return "en" if str(locale).startswith("en") else "id"


def render(code: str, value: Any = "") -> str:
    """The problem in the current locale (inside ``force_locale`` for many at once)."""
    template = MESSAGES.get(code)
    if template is None:
        return f"{code}: {value}"
    return str(template) % {"value": value}


def message(code: str, value: Any = "", locale: str = "id") -> str:
    """The problem ``code`` with its ``value``, in ``locale``."""
    with force_locale(reader_locale(locale)):
        return render(code, value)
