"""Bulk people upsert for the REST API through the staff import itself.

The records are laid out as one import file (the documented template's headers) and handed to
`staff_import.apply`: the same row validation, the same matching (ASN by NIP, externals by
e-mail) and the same all-or-nothing rule as a file upload. Problems come back per record with
the API field name and the reason. As with a file, a field sent for any record is a column for
all of them: a record that leaves it out stores it empty.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from . import staff_import

#: API field -> the import template's header (aliases the import already knows).
FIELDS: dict[str, str] = {
    "nip": "NIP", "name": "Nama", "email": "Email", "kind": "Jenis", "grade": "Golongan",
    "position": "Jabatan", "job_level": "Jenjang Jabatan", "unit": "Unit Kerja",
    "location": "Lokasi Kerja", "timezone": "Zona Waktu", "supervisor_nip": "NIP Atasan",
    "organisation": "Instansi", "expertise": "Keahlian", "mode": "Mode",
    "availability": "Ketersediaan", "leave": "Cuti", "priority": "Prioritas",
}
_BY_HEADER = {header: name for name, header in FIELDS.items()}
# Names the import uses for a column that is absent from the file.
_BY_INTERNAL = {"supervisor": "supervisor_nip", **{n: n for n in FIELDS}}


@dataclass
class UpsertResult:
    applied: bool
    summary: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    return str(value)


def to_csv(records: list[dict[str, Any]]) -> bytes:
    names = [n for n in FIELDS if any(r.get(n) is not None for r in records)]
    codes: list[str] = []
    for r in records:
        for code in (r.get("competencies") or {}):
            if code not in codes:
                codes.append(code)
    comp_cols = [(c, part) for c in codes for part in ("level", "target")
                 if any(((r.get("competencies") or {}).get(c) or {}).get(part) is not None
                        for r in records)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([FIELDS[n] for n in names]
                    + [c if part == "level" else f"{c} target" for c, part in comp_cols])
    for r in records:
        comps = r.get("competencies") or {}
        writer.writerow([_cell(r.get(n)) for n in names]
                        + [_cell((comps.get(c) or {}).get(part)) for c, part in comp_cols])
    return out.getvalue().encode("utf-8")


def _field(column: str | None) -> str | None:
    if column is None:
        return None
    if column in _BY_HEADER:
        return _BY_HEADER[column]
    if column in _BY_INTERNAL:
        return _BY_INTERNAL[column]
    if column.endswith(" target"):
        return f"competencies.{column[:-7]}.target"
    return f"competencies.{column}.level"


def upsert(records: list[dict[str, Any]], source: str, locale: str = "id") -> UpsertResult:
    """Validate every record, then write all of them or none (the caller commits)."""
    report = staff_import.apply(to_csv(records), f"{source}.csv", None, locale=locale)
    if report.applied:
        summary = report.summary()
        return UpsertResult(True, {k: summary[k] for k in ("new", "updated", "unchanged")})
    errors = []
    for issue in report.issues:
        index = issue.row - 2 if issue.row is not None else None
        errors.append({"index": index, "field": _field(issue.column), "code": issue.code,
                       "reason": issue.message(locale)})
    return UpsertResult(False, errors=errors)
