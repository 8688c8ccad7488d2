"""The header row: which column holds which field (documented template and SIASN-style
aliases) and which competency, current or target level."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .report import ImportIssue

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "nip": ("nip", "nip baru", "nipbaru", "nip_baru"),
    "name": ("nama", "name", "nama lengkap", "nama pegawai"),
    "email": ("email", "e-mail", "e mail", "surel", "alamat email"),
    "kind": ("jenis", "jenis pegawai", "kind", "type"),
    "grade": ("golongan", "golru", "gol", "gol ruang", "gol/ruang", "grade", "pangkat/golongan"),
    "position": ("jabatan", "nama jabatan", "position"),
    "job_level": ("jenjang jabatan", "jenjang", "job level"),
    "unit": ("unit kerja", "unit", "unor", "unit organisasi"),
    "location": ("lokasi kerja", "lokasi", "kota", "location", "city"),
    "timezone": ("zona waktu", "timezone", "time zone"),
    "supervisor": ("nip atasan", "supervisor nip", "atasan"),
    "organisation": ("instansi", "organisasi", "organisation", "organization"),
    "expertise": ("keahlian", "expertise"),
    "mode": ("mode", "moda"),
    "availability": ("ketersediaan", "waktu luang", "availability", "jadwal"),
    "leave": ("cuti", "leave"),
    "priority": ("prioritas", "priority"),
}
_ALIAS = {alias: key for key, aliases in FIELD_ALIASES.items() for alias in aliases}

TEMPLATE_HEADERS = [
    "NIP", "Nama", "Email", "Jenis", "Golongan", "Jabatan", "Jenjang Jabatan", "Unit Kerja",
    "Lokasi Kerja", "Zona Waktu", "NIP Atasan", "Instansi", "Keahlian", "Mode",
    "Ketersediaan", "Cuti",
]


def norm_header(text: Any) -> str:
    return re.sub(r"[\s_]+", " ", str(text or "")).strip().lower()


@dataclass
class Columns:
    fields: dict[str, int] = field(default_factory=dict)  # field -> column index
    comps: dict[int, tuple[str, bool]] = field(default_factory=dict)  # index -> (code, target)
    headers: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def map_headers(
    header: list[Any], catalogue: dict[str, Any]
) -> tuple[Columns, list[ImportIssue]]:
    cols = Columns(headers=[str(h if h is not None else "").strip() for h in header])
    issues: list[ImportIssue] = []
    comp_names: dict[str, str] = {}
    for code, comp in catalogue.items():
        comp_names[code.lower()] = code
        comp_names[norm_header(comp.name_id)] = code
        comp_names[norm_header(comp.name_en)] = code
    seen_comp: set[tuple[str, bool]] = set()
    for index, raw in enumerate(cols.headers):
        key = norm_header(raw)
        if not key:
            continue
        if key in _ALIAS:
            name = _ALIAS[key]
            if name in cols.fields:
                issues.append(ImportIssue(None, raw, "duplicate_column", raw))
            cols.fields[name] = index
            continue
        target = False
        for suffix in (" target", " required", " sasaran", " dibutuhkan"):
            if key.endswith(suffix):
                key, target = key[: -len(suffix)].strip(), True
                break
        comp_code = comp_names.get(key)
        if comp_code is None:
            if target:  # clearly meant as a competency: a typo must not be dropped silently
                issues.append(ImportIssue(None, raw, "unknown_column", raw))
            else:
                cols.ignored.append(raw)
            continue
        if (comp_code, target) in seen_comp:
            issues.append(ImportIssue(None, raw, "duplicate_column", raw))
        seen_comp.add((comp_code, target))
        cols.comps[index] = (comp_code, target)
    missing = [label for name, label in (("name", "Nama"), ("email", "Email"))
               if name not in cols.fields]
    if "nip" not in cols.fields and "kind" not in cols.fields:
        missing.insert(0, "NIP")
    for label in missing:
        issues.append(ImportIssue(None, label, "missing_column", label))
    return cols, issues
