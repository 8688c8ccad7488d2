"""The rules of one data row, each a small named function; ``validate_row`` runs them in the
order their problems are listed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .. import zones
from ..grades import JOB_LEVELS, GradeError, parse_grade
from ..nip import NipError, parse_nip
from .cells import (
    cell_text,
    nip_text,
    parse_email,
    parse_leaves,
    parse_level,
    parse_timezone,
    parse_windows,
    zone_for,
)
from .headers import Columns
from .reading import Formula
from .report import ImportIssue

_MODES = {
    "online": "online", "daring": "online", "in_person": "in_person", "in person": "in_person",
    "luring": "in_person", "tatap muka": "in_person", "either": "either", "keduanya": "either",
    "campuran": "either", "hybrid": "either",
}
_KINDS = {
    "pns": "pns", "pppk": "pppk", "eksternal": "external", "external": "external",
    "mitra": "external", "mitra eksternal": "external",
}
_JOB_LEVELS = {j.lower(): j for j in JOB_LEVELS}
_LIMITS = {"name": 200, "position": 200, "unit": 200, "location": 200, "organisation": 200,
           "expertise": 500, "job_level": 40}


#: line breaks and other control characters: refused in names (they end up in e-mail headers,
#: calendar invitations and exports)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


@dataclass
class Row:
    row: int
    kind: str
    key: str  # NIP for ASN, e-mail for externals
    values: dict[str, Any]  # person columns present in the file
    comps: dict[str, tuple[int | None, int | None]]  # code -> (current, required)
    windows: list[tuple[int, int, int]] | None
    leaves: list[tuple[date, date]] | None
    supervisor: str | None
    unit: str | None
    location: str | None
    timezone: str | None
    zone_source: str | None = None  # "column", the location / unit place read, or "file"


@dataclass
class Existing:
    by_nip: dict[str, int]
    by_email: dict[str, int]
    email_of: dict[int, str]
    asn_ids: set[int]
    locations: dict[str, tuple[int, str]]  # lower name -> (id, tz)
    default_zone: str | None = None  # the coordinator's zone for rows nothing tells apart


@dataclass
class RowCheck:
    """One data row under check: its cells by field, the person values read so far and the
    report's problem list (each problem names the column as written in the file)."""

    number: int
    record: list[Any]
    cols: Columns
    issues: list[ImportIssue]
    values: dict[str, Any] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.cols.fields

    def cell(self, name: str) -> Any:
        index = self.cols.fields.get(name)
        if index is None or index >= len(self.record):
            return None
        return self.record[index]

    def bad(self, name: str, code: str, value: Any = "") -> None:
        index = self.cols.fields.get(name)
        self.issues.append(ImportIssue(self.number, self.cols.headers[index]
                                       if index is not None else name, code, cell_text(value)))


def formula_cells(rc: RowCheck) -> None:
    """Formula cells without a stored value (nothing else in the row is read then)."""
    headers = rc.cols.headers
    for index, value in enumerate(rc.record):
        if isinstance(value, Formula):
            header = headers[index] if index < len(headers) else None
            rc.issues.append(ImportIssue(rc.number, header, "formula_no_value", str(value)))


def kind_and_nip(rc: RowCheck, seen_nip: dict[str, int]) -> tuple[str | None, str]:
    """The kind (from its column, else from the NIP) and the NIP, which must be valid, unique
    in the file, absent for externals and present for ASN."""
    kind_text = cell_text(rc.cell("kind")).lower()
    kind: str | None = None
    if kind_text:
        kind = _KINDS.get(kind_text)
        if kind is None:
            rc.bad("kind", "kind", kind_text)
    nip, nip_problem = nip_text(rc.cell("nip"))
    if kind == "external":
        if nip:
            rc.bad("nip", "nip_for_external", nip)
    elif nip_problem:
        rc.bad("nip", nip_problem, nip)
    elif nip:
        try:
            parsed = parse_nip(nip)
        except NipError as exc:
            rc.bad("nip", exc.code, nip)
        else:
            if kind is None:
                kind = parsed.kind
            elif kind_text and parsed.kind != kind:
                rc.bad("kind", "kind_mismatch", parsed.kind.upper())
            if nip in seen_nip:
                rc.bad("nip", "duplicate_nip", seen_nip[nip])
            else:
                seen_nip[nip] = rc.number
    elif kind in ("pns", "pppk") or rc.has("nip"):
        rc.bad("nip", "required")
    if kind is None and not nip and rc.has("kind") and not kind_text:
        rc.bad("kind", "required")
    rc.values["kind"] = kind
    return kind, nip


def person_name(rc: RowCheck) -> None:
    """Required, on one line (names end up in e-mail headers and invitations)."""
    raw_name = rc.cell("name")
    name = cell_text(raw_name)
    if not name:
        rc.bad("name", "required")
    elif isinstance(raw_name, str) and _CONTROL.search(raw_name):
        rc.bad("name", "control_chars", name)
    rc.values["name"] = name


def email_address(rc: RowCheck, kind: str | None, nip: str, existing: Existing,
                  seen_email: dict[str, int]) -> str:
    """Required, valid, unique in the file, and not someone else's in the database."""
    email_raw = cell_text(rc.cell("email"))
    email = ""
    if not email_raw:
        rc.bad("email", "required")
    else:
        email = parse_email(email_raw)
        if not email:
            rc.bad("email", "email", email_raw)
        else:
            if email in seen_email:
                rc.bad("email", "duplicate_email", seen_email[email])
            else:
                seen_email[email] = rc.number
            owner = existing.by_email.get(email)
            if owner is not None:
                asn_ids = existing.asn_ids
                mine = existing.by_nip.get(nip) if kind != "external" else (
                    None if owner in asn_ids else owner)
                if mine != owner:
                    rc.bad("email", "email_taken", email)
    rc.values["email"] = email
    return email


def grade_and_job_level(rc: RowCheck, kind: str | None) -> None:
    """A known grade of the person's scheme (PNS / PPPK) and a known job level."""
    values = rc.values
    if rc.has("grade"):
        grade_raw = cell_text(rc.cell("grade"))
        values["grade_rank"] = values["grade_label"] = None
        if grade_raw:
            try:
                grade = parse_grade(grade_raw)
            except GradeError:
                rc.bad("grade", "grade", grade_raw)
            else:
                if kind in ("pns", "pppk") and grade.scheme != kind:
                    rc.bad("grade", "grade_kind", grade_raw)
                values["grade_rank"], values["grade_label"] = grade.rank, grade.label
    if rc.has("job_level"):
        jl = cell_text(rc.cell("job_level"))
        if jl and jl.lower() not in _JOB_LEVELS:
            rc.bad("job_level", "job_level", jl)
        values["job_level"] = _JOB_LEVELS.get(jl.lower()) if jl else None


def free_texts(rc: RowCheck, kind: str | None) -> None:
    """Position, organisation and expertise within their lengths; externals name their
    organisation."""
    values = rc.values
    for name in ("position", "organisation", "expertise"):
        if rc.has(name):
            values[name] = cell_text(rc.cell(name)) or None
    for name, limit in _LIMITS.items():
        text = values.get(name) if name in values else cell_text(rc.cell(name))
        if text and len(text) > limit:
            rc.bad(name, "too_long", text[:40] + "…")
    if kind == "external" and not values.get("organisation"):
        rc.bad("organisation", "organisation_required")


def mode_and_priority(rc: RowCheck) -> None:
    """The session mode (empty: either) and the priority flag."""
    if rc.has("mode"):
        mode_raw = cell_text(rc.cell("mode")).lower()
        if mode_raw:
            mode = _MODES.get(mode_raw)
            if mode is None:
                rc.bad("mode", "mode", mode_raw)
            rc.values["mode"] = mode
        else:
            rc.values["mode"] = "either"
    if rc.has("priority"):
        rc.values["is_priority"] = (cell_text(rc.cell("priority")).lower()
                                    in ("ya", "yes", "y", "1", "true"))


def _inferred_zone(location: str | None, unit: str | None, organisation: str | None,
                   existing: Existing) -> tuple[str, str] | None:
    """(zone, what it was read from): the work location, else the province or city in the
    unit's (or organisation's) name, else the zone the coordinator chose for the file."""
    known = existing.locations.get(location.lower()) if location else None
    if known:
        return known[1], location or ""
    if location:
        zone = zone_for(location)
        if zone:
            return zone, location
    found = zones.infer_zone(unit, organisation)
    if found:
        return found
    if existing.default_zone:
        return existing.default_zone, "file"
    return None


def place_and_zone(rc: RowCheck, kind: str | None, nip: str, email: str, existing: Existing,
                   ) -> tuple[str | None, str | None, str | None, str | None]:
    """(unit, location, zone, where the zone came from). The zone is never silently WIB: a
    row nothing places is refused, unless the person is known and keeps their zone."""
    unit = (cell_text(rc.cell("unit")) or None) if rc.has("unit") else None
    location = (cell_text(rc.cell("location")) or None) if rc.has("location") else None
    tz_raw = cell_text(rc.cell("timezone"))
    tz = parse_timezone(tz_raw)
    zone_source = "column" if tz else None
    if tz_raw and tz is None:
        rc.bad("timezone", "timezone", tz_raw)
    elif tz is None:
        organisation = rc.values.get("organisation")
        inferred = _inferred_zone(location, unit, organisation, existing)
        if inferred:
            tz, zone_source = inferred
        elif location:
            rc.bad("location", "timezone_required", location)
        elif (existing.by_email.get(email) if kind == "external"
              else existing.by_nip.get(nip)) is None:  # known people keep their zone
            rc.bad("timezone", "zone_unknown", unit or organisation or "")
    if tz and not location:  # no location to carry the zone: the person carries it
        rc.values["timezone_override"] = tz
    return unit, location, tz, zone_source


def supervisor_nip(rc: RowCheck, nip: str) -> str | None:
    """The supervisor's NIP, not the person's own (whether it exists is a file-level check)."""
    if not rc.has("supervisor"):
        return None
    supervisor = nip_text(rc.cell("supervisor"))[0] or None
    if supervisor and supervisor == nip:
        rc.bad("supervisor", "supervisor_self", supervisor)
    return supervisor


def competency_levels(rc: RowCheck) -> dict[str, tuple[int | None, int | None]]:
    """code -> (current, target) levels, each a whole number 1-5."""
    comps: dict[str, tuple[int | None, int | None]] = {}
    for index, (code, target) in rc.cols.comps.items():
        raw = rc.record[index] if index < len(rc.record) else None
        if cell_text(raw) == "":
            continue
        try:
            level = parse_level(raw)
        except ValueError:
            rc.issues.append(ImportIssue(rc.number, rc.cols.headers[index], "level",
                                         cell_text(raw)))
            continue
        cur, req = comps.get(code, (None, None))
        comps[code] = (cur, level) if target else (level, req)
    return comps


def availability(rc: RowCheck) -> list[tuple[int, int, int]] | None:
    """Weekly windows (None: the file says nothing about them)."""
    if not rc.has("availability"):
        return None
    try:
        return parse_windows(cell_text(rc.cell("availability")))
    except ValueError as exc:
        rc.bad("availability", exc.args[0], exc.args[1])
        return None


def leave(rc: RowCheck) -> list[tuple[date, date]] | None:
    """Leave spans (None: the file says nothing about them)."""
    if not rc.has("leave"):
        return None
    try:
        return parse_leaves(rc.cell("leave"))
    except ValueError as exc:
        rc.bad("leave", "leave", exc.args[0] if exc.args else rc.cell("leave"))
        return None


def validate_row(
    number: int, record: list[Any], cols: Columns, existing: Existing,
    issues: list[ImportIssue], seen_nip: dict[str, int], seen_email: dict[str, int],
) -> Row | None:
    """The row as it will be stored, or None when a rule refused it (its problems appended
    to ``issues`` in the order of the rules)."""
    start = len(issues)
    rc = RowCheck(number, record, cols, issues)
    formula_cells(rc)
    if len(issues) > start:
        return None
    kind, nip = kind_and_nip(rc, seen_nip)
    person_name(rc)
    email = email_address(rc, kind, nip, existing, seen_email)
    grade_and_job_level(rc, kind)
    free_texts(rc, kind)
    mode_and_priority(rc)
    unit, location, tz, zone_source = place_and_zone(rc, kind, nip, email, existing)
    supervisor = supervisor_nip(rc, nip)
    comps = competency_levels(rc)
    windows = availability(rc)
    leaves = leave(rc)
    if len(issues) > start:
        return None
    for code, (cur, _req) in comps.items():
        if cur is None:  # a target without a current level
            issues.append(ImportIssue(number, code, "required", ""))
    if len(issues) > start:
        return None
    return Row(
        row=number, kind=kind or "pns", key=nip if kind != "external" else email,
        values=rc.values, comps=comps, windows=windows, leaves=leaves, supervisor=supervisor,
        unit=unit, location=location, timezone=tz, zone_source=zone_source,
    )
