"""Staff import from CSV and XLSX (documented template and SIASN-style headers).

`preview()` validates and counts without writing; `apply()` writes nothing unless the whole file is
valid, then upserts (ASN by NIP, externals by e-mail) with bulk statements in the caller's
transaction (services flush, never commit). Messages come in Bahasa Indonesia and English.
"""

from __future__ import annotations

import csv
import io
import os
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, delete, insert, select, update

from ..extensions import db
from ..models import (
    Actor,
    AvailabilityWindow,
    LeaveDate,
    Location,
    Person,
    PersonCompetency,
    Unit,
)
from . import audit, zones
from .catalogue import by_code
from .grades import JOB_LEVELS, GradeError, parse_grade
from .nip import NipError, normalise_nip, parse_nip

# --------------------------------------------------------------------------------------------
# Messages

MESSAGES: dict[str, dict[str, str]] = {
    "missing_column": {
        "id": "Kolom wajib tidak ada: {value}",
        "en": "Required column missing: {value}",
    },
    "unknown_column": {
        "id": "Kolom target kompetensi tidak dikenal (tidak ada di katalog): {value}",
        "en": "Unknown competency target column (not in the catalogue): {value}",
    },
    "ignored_columns": {
        "id": "Kolom berikut tidak dikenal dan diabaikan (jika itu kompetensi, tambahkan dulu ke "
        "katalog): {value}",
        "en": "These columns are not recognised and were ignored (if one is a competency, add it "
        "to the catalogue first): {value}",
    },
    "duplicate_column": {
        "id": "Kolom muncul lebih dari sekali: {value}",
        "en": "Column appears more than once: {value}",
    },
    "bad_file": {
        "id": "Berkas tidak dapat dibaca sebagai CSV atau XLSX: {value}",
        "en": "The file cannot be read as CSV or XLSX: {value}",
    },
    "empty_file": {"id": "Berkas tidak berisi data.", "en": "The file contains no data."},
    "formula_no_value": {
        "id": "Sel berisi rumus tanpa nilai tersimpan (buka dan simpan ulang di Excel): {value}",
        "en": "Cell holds a formula with no cached value (open and save it in Excel): {value}",
    },
    "required": {"id": "Wajib diisi.", "en": "Required."},
    "nip_format": {"id": "NIP harus 18 digit: {value}", "en": "NIP must be 18 digits: {value}"},
    "nip_as_number": {
        "id": "NIP tersimpan sebagai angka dan kehilangan digit; format kolom sebagai Teks: "
        "{value}",
        "en": "NIP stored as a number lost digits; format the column as Text: {value}",
    },
    "nip_birth_date": {
        "id": "Tanggal lahir dalam NIP tidak valid: {value}",
        "en": "Birth date in the NIP is not a real date: {value}",
    },
    "nip_appointment_month": {
        "id": "Bulan pengangkatan dalam NIP tidak valid (01-12, PPPK 21-29): {value}",
        "en": "Appointment month in the NIP is invalid (01-12, PPPK 21-29): {value}",
    },
    "nip_appointment_before_birth": {
        "id": "Tanggal pengangkatan dalam NIP tidak masuk akal (sebelum/terlalu dekat lahir): "
        "{value}",
        "en": "Appointment date in the NIP is implausible (before or too close to birth): {value}",
    },
    "nip_appointment_future": {
        "id": "Tanggal pengangkatan (TMT) dalam NIP di masa depan: {value}",
        "en": "Appointment date (TMT) in the NIP is in the future: {value}",
    },
    "nip_birth_year": {
        "id": "Tahun lahir dalam NIP tidak masuk akal untuk pegawai aktif: {value}",
        "en": "Birth year in the NIP is implausible for serving staff: {value}",
    },
    "nip_too_young": {
        "id": "Pengangkatan (TMT) dalam NIP sebelum usia 18 tahun: {value}",
        "en": "Appointment (TMT) in the NIP before the age of 18: {value}",
    },
    "nip_pppk_year": {
        "id": "NIP PPPK dengan tahun pengangkatan sebelum 2019 (PPPK belum ada): {value}",
        "en": "PPPK NIP with an appointment year before 2019 (PPPK did not exist yet): {value}",
    },
    "nip_gender": {
        "id": "Digit jenis kelamin dalam NIP harus 1 atau 2: {value}",
        "en": "Gender digit in the NIP must be 1 or 2: {value}",
    },
    "nip_sequence": {
        "id": "Nomor urut dalam NIP tidak boleh 000: {value}",
        "en": "Sequence number in the NIP cannot be 000: {value}",
    },
    "nip_for_external": {
        "id": "Mitra eksternal tidak memiliki NIP: {value}",
        "en": "External mentors have no NIP: {value}",
    },
    "kind": {
        "id": "Jenis harus PNS, PPPK atau Eksternal: {value}",
        "en": "Type must be PNS, PPPK or External: {value}",
    },
    "kind_mismatch": {
        "id": "NIP ini milik {value}, tidak sesuai dengan kolom Jenis.",
        "en": "This NIP belongs to a {value}, which does not match the Type column.",
    },
    "grade": {
        "id": "Golongan tidak valid (contoh: III/a, 3a, PPPK IX): {value}",
        "en": "Invalid grade (e.g. III/a, 3a, PPPK IX): {value}",
    },
    "grade_kind": {
        "id": "Golongan tidak sesuai jenis pegawai: {value}",
        "en": "Grade does not fit the employee type: {value}",
    },
    "job_level": {"id": "Jenjang jabatan tidak dikenal: {value}",
                  "en": "Unknown job level: {value}"},
    "email": {"id": "Alamat e-mail tidak valid: {value}", "en": "Invalid e-mail address: {value}"},
    "email_taken": {
        "id": "E-mail sudah dipakai orang lain di basis data: {value}",
        "en": "E-mail already belongs to someone else in the database: {value}",
    },
    "duplicate_nip": {
        "id": "NIP ganda dalam berkas (lihat baris {value}).",
        "en": "Duplicate NIP in the file (see row {value}).",
    },
    "duplicate_email": {
        "id": "E-mail ganda dalam berkas (lihat baris {value}).",
        "en": "Duplicate e-mail in the file (see row {value}).",
    },
    "level": {
        "id": "Level harus bilangan bulat 1-5: {value}",
        "en": "Level must be a whole number 1-5: {value}",
    },
    "window_format": {
        "id": "Format waktu tidak valid (contoh: Sen 09:00-12:00; Kam 13:00-15:00): {value}",
        "en": "Invalid time window (e.g. Mon 09:00-12:00; Thu 13:00-15:00): {value}",
    },
    "window_order": {
        "id": "Jam mulai harus sebelum jam selesai: {value}",
        "en": "Start time must be before end time: {value}",
    },
    "leave": {
        "id": "Tanggal cuti tidak valid (contoh: 2026-12-01..2026-12-05): {value}",
        "en": "Invalid leave dates (e.g. 2026-12-01..2026-12-05): {value}",
    },
    "timezone": {"id": "Zona waktu tidak dikenal: {value}", "en": "Unknown time zone: {value}"},
    "zone_unknown": {
        "id": "Zona waktu tidak dapat ditentukan (tanpa lokasi, provinsi atau kota di unit "
        "kerja): isi kolom Zona Waktu atau pilih zona untuk berkas ini: {value}",
        "en": "The time zone cannot be known (no location, province or city in the unit): "
        "fill in the Time zone column or choose a zone for this file: {value}",
    },
    "timezone_required": {
        "id": "Kota tidak dikenal; isi kolom Zona Waktu (Asia/Jakarta, Asia/Makassar, "
        "Asia/Jayapura): {value}",
        "en": "Unknown city; fill in the Time zone column (Asia/Jakarta, Asia/Makassar, "
        "Asia/Jayapura): {value}",
    },
    "mode": {
        "id": "Mode harus daring, luring atau keduanya: {value}",
        "en": "Mode must be online, in person or either: {value}",
    },
    "supervisor_unknown": {
        "id": "NIP atasan tidak ditemukan di berkas maupun basis data: {value}",
        "en": "Supervisor NIP found neither in the file nor in the database: {value}",
    },
    "supervisor_self": {
        "id": "Atasan tidak boleh dirinya sendiri: {value}",
        "en": "A person cannot be their own supervisor: {value}",
    },
    "organisation_required": {
        "id": "Mitra eksternal wajib mengisi Instansi.",
        "en": "External mentors need an Organisation.",
    },
    "too_long": {"id": "Teks terlalu panjang: {value}", "en": "Text too long: {value}"},
    "control_chars": {
        "id": "Nama tidak boleh berisi baris baru atau karakter kendali: {value}",
        "en": "A name cannot contain line breaks or control characters: {value}",
    },
    "too_many_rows": {
        "id": "Berkas berisi lebih dari {value} baris data. Bagi berkas menjadi beberapa bagian "
        "lalu unggah satu per satu.",
        "en": "The file holds more than {value} data rows. Split it and upload the parts one "
        "by one.",
    },
    "too_slow": {
        "id": "Berkas terlalu besar atau rumit untuk diperiksa dalam {value} detik. Simpan "
        "ulang sebagai CSV atau bagi menjadi beberapa berkas.",
        "en": "The file is too big or complex to check within {value} seconds. Save it as CSV "
        "or split it into several files.",
    },
    "too_many_columns": {
        "id": "Baris judul berisi lebih dari {value} kolom; hapus kolom kosong di kanan tabel.",
        "en": "The header row has more than {value} columns; delete the empty columns on the "
        "right.",
    },
    "stopped_at_empty": {
        "id": "Pembacaan berhenti setelah {value} baris kosong berturut-turut; baris di "
        "bawahnya diabaikan.",
        "en": "Reading stopped after {value} empty rows in a row; rows below are ignored.",
    },
}

#: defaults of the [import] settings (config/defaults.toml)
LIMIT_DEFAULTS = {"max_rows": 50_000, "max_errors_shown": 200, "max_errors_kept": 20_000,
                  "time_budget_seconds": 60, "max_empty_run": 1_000, "max_columns": 500}


def limits() -> dict[str, int]:
    """The bounds of one import check (rows, errors kept and shown, time, empty run)."""
    try:
        from flask import current_app

        cfg = current_app.config["MM"].get("import", {})
    except RuntimeError:  # no application (a bench or a unit test)
        cfg = {}
    return {k: int(cfg.get(k, v)) for k, v in LIMIT_DEFAULTS.items()}


class _Issues(list):
    """The issue list of one report: keeps the first ``keep`` issues and counts the rest, so a
    file full of errors cannot fill the memory or the preview page."""

    def __init__(self, keep: int = LIMIT_DEFAULTS["max_errors_kept"]) -> None:
        super().__init__()
        self.keep = keep
        self.dropped = 0

    def append(self, issue: Any) -> None:
        if len(self) < self.keep:
            super().append(issue)
        else:
            self.dropped += 1

    def extend(self, issues: Iterable[Any]) -> None:
        for issue in issues:
            self.append(issue)


def message(code: str, value: Any = "", locale: str = "id") -> str:
    templates = MESSAGES.get(code, {"id": code + ": {value}", "en": code + ": {value}"})
    text = templates["en" if str(locale).startswith("en") else "id"]
    return text.format(value=value)


@dataclass(frozen=True)
class ImportIssue:
    row: int | None  # spreadsheet row number (header = 1); None for file-level problems
    column: str | None  # the header as written in the file
    code: str
    value: str = ""

    def message(self, locale: str = "id") -> str:
        return message(self.code, self.value, locale)


@dataclass
class ImportReport:
    filename: str
    locale: str = "id"
    rows: int = 0  # non-empty data rows
    empty_rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    issues: list[ImportIssue] = field(default_factory=_Issues)
    # Columns a real SIASN export carries that we do not use (Tanggal Lahir, Agama, ...).
    ignored_columns: list[str] = field(default_factory=list)
    # The first rows as they will be stored, so the coordinator can check the reading.
    sample: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False
    stopped_at_empty: int = 0  # reading ended after this many empty rows in a row
    default_zone: str | None = None  # the coordinator's zone for rows nothing tells apart

    def warnings(self, locale: str | None = None) -> list[str]:
        out = []
        if self.ignored_columns:
            out.append(message("ignored_columns", ", ".join(self.ignored_columns),
                               locale or self.locale))
        if self.stopped_at_empty:
            out.append(message("stopped_at_empty", str(self.stopped_at_empty),
                               locale or self.locale))
        return out

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def issue_total(self) -> int:
        """Every problem found, also those beyond the ones kept."""
        return len(self.issues) + getattr(self.issues, "dropped", 0)

    def shown_issues(self, limit: int | None = None) -> list[ImportIssue]:
        return list(self.issues[: limits()["max_errors_shown"] if limit is None else limit])

    def errors_csv(self, locale: str | None = None) -> bytes:
        """Every kept problem as CSV (row; column; problem) for download."""
        loc = locale or self.locale
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        writer.writerow(["Row", "Column", "Problem"] if loc == "en"
                        else ["Baris", "Kolom", "Masalah"])
        for i in self.issues:
            writer.writerow(["" if i.row is None else i.row, i.column or "", i.message(loc)])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")

    @property
    def errors(self) -> int:
        """Rows with at least one problem (file-level problems count as one)."""
        return len({(i.row if i.row is not None else -1) for i in self.issues})

    def messages(self, locale: str | None = None) -> list[str]:
        loc = locale or self.locale
        out = []
        for i in self.issues:
            where = []
            if i.row is not None:
                where.append(("row " if loc == "en" else "baris ") + str(i.row))
            if i.column:
                where.append(("column " if loc == "en" else "kolom ") + i.column)
            out.append((", ".join(where) + ": " if where else "") + i.message(loc))
        return out

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.rows, "empty_rows": self.empty_rows, "new": self.new,
            "updated": self.updated, "unchanged": self.unchanged, "errors": self.errors,
        }


# --------------------------------------------------------------------------------------------
# Headers

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


def _norm_header(text: Any) -> str:
    return re.sub(r"[\s_]+", " ", str(text or "")).strip().lower()


@dataclass
class _Columns:
    fields: dict[str, int] = field(default_factory=dict)  # field -> column index
    comps: dict[int, tuple[str, bool]] = field(default_factory=dict)  # index -> (code, target)
    headers: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _map_headers(
    header: list[Any], catalogue: dict[str, Any]
) -> tuple[_Columns, list[ImportIssue]]:
    cols = _Columns(headers=[str(h if h is not None else "").strip() for h in header])
    issues: list[ImportIssue] = []
    comp_names: dict[str, str] = {}
    for code, comp in catalogue.items():
        comp_names[code.lower()] = code
        comp_names[_norm_header(comp.name_id)] = code
        comp_names[_norm_header(comp.name_en)] = code
    seen_comp: set[tuple[str, bool]] = set()
    for index, raw in enumerate(cols.headers):
        key = _norm_header(raw)
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
        code = comp_names.get(key)
        if code is None:
            if target:  # clearly meant as a competency: a typo must not be dropped silently
                issues.append(ImportIssue(None, raw, "unknown_column", raw))
            else:
                cols.ignored.append(raw)
            continue
        if (code, target) in seen_comp:
            issues.append(ImportIssue(None, raw, "duplicate_column", raw))
        seen_comp.add((code, target))
        cols.comps[index] = (code, target)
    missing = [label for name, label in (("name", "Nama"), ("email", "Email"))
               if name not in cols.fields]
    if "nip" not in cols.fields and "kind" not in cols.fields:
        missing.insert(0, "NIP")
    for label in missing:
        issues.append(ImportIssue(None, label, "missing_column", label))
    return cols, issues


# --------------------------------------------------------------------------------------------
# Reading files


class _FileError(Exception):
    def __init__(self, issue: ImportIssue) -> None:
        super().__init__(issue.code)
        self.issue = issue


def decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _read_csv(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = decode_csv(data)
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    # lines handed out one by one: an io.StringIO copy of a 20 MB file would cost 80 MB
    reader = csv.reader(_lines(text), delimiter=delimiter)
    try:
        for number, record in enumerate(reader, start=1):
            yield number, list(record)
    except csv.Error as exc:
        raise _FileError(ImportIssue(None, None, "bad_file", str(exc))) from exc


def _lines(text: str) -> Iterator[str]:
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end + 1]
        start = end + 1


_LOAD_LOCK = threading.Lock()


def _load_xlsx(data: bytes, data_only: bool):
    """openpyxl's read-only workbook without its size scan: a sheet with no <dimension>
    element is otherwise parsed from end to end on opening (seconds per 100,000 rows); we
    reset the dimensions anyway and stream the rows once."""
    import openpyxl
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    with _LOAD_LOCK:
        original = ReadOnlyWorksheet._get_size
        ReadOnlyWorksheet._get_size = lambda self: None  # type: ignore[method-assign]
        try:
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
        finally:
            ReadOnlyWorksheet._get_size = original  # type: ignore[method-assign]


def _xlsx_value_rows(data: bytes, stop_after: int) -> int:
    """Rows of the first sheet holding at least one value, counted in its raw XML (fast, no
    cell objects); stops counting past ``stop_after``."""
    wb = _load_xlsx(data, data_only=True)
    try:
        path = wb.worksheets[0]._worksheet_path
    finally:
        wb.close()
    count, tail = 0, b""
    budget = _Budget()
    with zipfile.ZipFile(io.BytesIO(data)) as zf, zf.open(path) as fh:
        chunks = 0
        while chunk := fh.read(1 << 20):
            chunks += 1
            budget.check(chunks * 1000)
            parts = (tail + chunk).split(b"</row>")
            tail = parts.pop()
            for part in parts:
                if b"<v>" in part or b"<is>" in part or b":v>" in part or b":is>" in part:
                    count += 1
            if count > stop_after:
                break
    return count


def _too_many_rows(data: bytes, filename: str, width: int, lim: dict[str, int]) -> bool:
    """A cheap first pass: more data rows than allowed? (Before any row is validated, so a
    huge file is refused in seconds and without holding its rows.)"""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        try:
            return _xlsx_value_rows(data, lim["max_rows"] + 1) > lim["max_rows"] + 1
        except (zipfile.BadZipFile, KeyError, IndexError, OSError):
            return False  # the real reader reports the broken file
    rows = empty_run = 0
    budget = _Budget()
    for scanned, (_number, record) in enumerate(_rows(data, filename), start=1):
        budget.check(scanned)
        if any(_text(v) for v in record[:width]):
            rows += 1
            empty_run = 0
            if rows > lim["max_rows"] + 1:  # + the header row
                return True
        else:
            empty_run += 1
            if empty_run >= lim["max_empty_run"] and rows:
                break
    return False


def _read_xlsx(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl.utils import get_column_letter

    try:
        has_formula = _xlsx_has_formulas(data)
        wb = _load_xlsx(data, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise _FileError(ImportIssue(None, None, "bad_file", type(exc).__name__)) from exc
    formulas: set[tuple[int, int]] = set()
    try:
        ws = wb.worksheets[0]
        # A sheet may declare a huge dimension (A1:XFD1048576): without this every row would
        # be padded to 16,384 cells. Rows then hold only the cells really in the file.
        ws.reset_dimensions()
        if has_formula:
            wbf = _load_xlsx(data, data_only=False)
            try:
                wsf = wbf.worksheets[0]
                wsf.reset_dimensions()
                budget = _Budget()
                for r, row in enumerate(wsf.iter_rows(values_only=True), start=1):
                    budget.check(r)
                    if r > budget.max_scan:
                        break
                    for c, value in enumerate(row):
                        if isinstance(value, str) and value.startswith("="):
                            formulas.add((r, c))
            finally:
                wbf.close()
        for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
            values = list(row)
            for c, value in enumerate(values):
                if value is None and (r, c) in formulas:
                    values[c] = _Formula(f"{get_column_letter(c + 1)}{r}")
            yield r, values
    finally:
        wb.close()


def _xlsx_has_formulas(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with zf.open(name) as fh:
                    tail = b""
                    while chunk := fh.read(1 << 20):
                        blob = tail + chunk
                        if b"<f>" in blob or b"<f " in blob or b":f>" in blob or b":f " in blob:
                            return True
                        tail = chunk[-8:]
    return False


class _Budget:
    """The time budget of one check, tested every 1,000 rows read."""

    def __init__(self) -> None:
        import time

        lim = limits()
        self.seconds = lim["time_budget_seconds"]
        self.deadline = time.monotonic() + self.seconds
        # rows read at most, data or empty (the empty run stops reading earlier)
        self.max_scan = (lim["max_rows"] + 1) * 4 + lim["max_empty_run"]

    def check(self, n: int) -> None:
        import time

        if n % 1000 == 0 and time.monotonic() > self.deadline:
            raise _FileError(ImportIssue(None, None, "too_slow", str(self.seconds)))


class _Formula(str):
    """Marks a formula cell with no cached value (the string is the cell reference)."""


def _rows(data: bytes, filename: str) -> Iterator[tuple[int, list[Any]]]:
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    return _read_csv(data)


# --------------------------------------------------------------------------------------------
# Cell parsing


def _text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is str:
        text = value.strip()
        if "  " not in text and "\n" not in text and "\t" not in text and "\r" not in text:
            return text
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", str(value)).strip()


def _nip_text(value: Any) -> tuple[str, str | None]:
    """(nip text, error code or None); a float NIP from Excel has lost digits."""
    if isinstance(value, float):
        if value >= 1e15:
            return _text(value), "nip_as_number"
        value = int(value)
    if isinstance(value, int):
        return str(value), None
    return normalise_nip(value), None


_PLAIN_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63})$"
)
_SPECIAL_TLDS = {"arpa", "invalid", "local", "localhost", "onion", "test"}


def _email(raw: str) -> str:
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


def _level(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _text(value)
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
    for part in re.split(r"[;\n]+", _text(value)):
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


def _timezone(raw: str) -> str | None:
    if not raw:
        return None
    name = _TZ_ALIASES.get(raw.lower(), raw)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: name too long
        return None
    return name


def _city_of(location: str) -> str:
    return location.split("(")[0].strip() or location


def _zone_for(location: str) -> str | None:
    key = _city_of(location).lower()
    for word in (key, location.lower(), *re.findall(r"[a-z]+", location.lower())):
        if word in KNOWN_CITIES:
            return KNOWN_CITIES[word]
    found = zones.infer_zone(location)
    return found[0] if found else None


# --------------------------------------------------------------------------------------------
# Validation


@dataclass
class _Row:
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
class _Existing:
    by_nip: dict[str, int]
    by_email: dict[str, int]
    email_of: dict[int, str]
    asn_ids: set[int]
    locations: dict[str, tuple[int, str]]  # lower name -> (id, tz)
    default_zone: str | None = None  # the coordinator's zone for rows nothing tells apart


def _load_existing() -> _Existing:
    by_nip: dict[str, int] = {}
    by_email: dict[str, int] = {}
    email_of: dict[int, str] = {}
    for pid, nip, email in db.session.execute(select(Person.id, Person.nip, Person.email)):
        if nip:
            by_nip[nip] = pid
        by_email[email.lower()] = pid
        email_of[pid] = email.lower()
    locations = {
        name.lower(): (lid, tz)
        for lid, name, tz in db.session.execute(
            select(Location.id, Location.name, Location.timezone)
        )
    }
    return _Existing(by_nip, by_email, email_of, set(by_nip.values()), locations)


def _validate(
    data: bytes, filename: str, report: ImportReport, progress: Callable[[int], None] | None = None
) -> tuple[list[_Row], _Existing | None, _Columns | None]:
    catalogue = by_code()
    rows_iter = _rows(data, filename)
    issues = report.issues
    out: list[_Row] = []
    try:
        header: list[Any] | None = None
        for number, record in rows_iter:
            if any(_text(v) for v in record[:LIMIT_DEFAULTS["max_columns"] * 2]):
                header = record
                break
            if number >= limits()["max_empty_run"]:
                break  # no header near the top: an empty sheet
        if header is None:
            issues.append(ImportIssue(None, None, "empty_file", ""))
            return [], None, None
        lim = limits()
        if len(header) > lim["max_columns"]:
            if any(_text(v) for v in header[lim["max_columns"]:]):
                issues.append(ImportIssue(None, None, "too_many_columns",
                                          str(lim["max_columns"])))
                return [], None, None
            header = header[: lim["max_columns"]]
        cols, header_issues = _map_headers(header, catalogue)
        issues.extend(header_issues)
        report.ignored_columns = list(cols.ignored)
        if any(i.code == "missing_column" for i in header_issues):
            return [], None, cols
        width = max([*cols.fields.values(), *cols.comps.keys(), 0]) + 1
        if _too_many_rows(data, filename, width, lim):
            issues.append(ImportIssue(None, None, "too_many_rows",
                                      f"{lim['max_rows']:,}".replace(",", ".")))
            return [], None, None
        existing = _load_existing()
        existing.default_zone = report.default_zone
        seen_nip: dict[str, int] = {}
        seen_email: dict[str, int] = {}
        budget = _Budget()
        empty_run = scanned = 0
        for number, record in rows_iter:
            scanned += 1
            budget.check(scanned)
            if len(record) > width:
                record = record[:width]  # columns we do not read cost nothing
            if not any(_text(v) for v in record):
                report.empty_rows += 1
                empty_run += 1
                if empty_run >= lim["max_empty_run"]:
                    # the sheet's real end: formatting often reaches far below the data
                    report.empty_rows -= empty_run
                    report.stopped_at_empty = empty_run
                    break
                continue
            empty_run = 0
            if report.rows >= lim["max_rows"]:
                issues.append(ImportIssue(None, None, "too_many_rows", f"{lim['max_rows']:,}"
                                          .replace(",", ".")))
                return [], None, None
            report.rows += 1
            if progress and report.rows % 1000 == 0:
                progress(report.rows)
            parsed = _validate_row(number, record, cols, existing, issues, seen_nip, seen_email)
            if parsed is not None:
                out.append(parsed)
    except _FileError as exc:
        issues.append(exc.issue)
        return [], None, None
    # Supervisors: in the file or in the database.
    file_nips = set(seen_nip)  # rows with a bad value elsewhere still count here
    for r in out:
        if r.supervisor and r.supervisor not in file_nips and r.supervisor not in existing.by_nip:
            issues.append(ImportIssue(r.row, cols.headers[cols.fields["supervisor"]],
                                      "supervisor_unknown", r.supervisor))
    if not out and not issues and report.rows == 0:
        issues.append(ImportIssue(None, None, "empty_file", ""))
    return out, existing, cols


def _validate_row(
    number: int, record: list[Any], cols: _Columns, existing: _Existing,
    issues: list[ImportIssue], seen_nip: dict[str, int], seen_email: dict[str, int],
) -> _Row | None:
    start = len(issues)
    headers = cols.headers

    def cell(name: str) -> Any:
        index = cols.fields.get(name)
        if index is None or index >= len(record):
            return None
        return record[index]

    def bad(name: str, code: str, value: Any = "") -> None:
        index = cols.fields.get(name)
        issues.append(ImportIssue(number, headers[index] if index is not None else name,
                                  code, _text(value)))

    for index, value in enumerate(record):
        if isinstance(value, _Formula):
            header = headers[index] if index < len(headers) else None
            issues.append(ImportIssue(number, header, "formula_no_value", str(value)))
    if len(issues) > start:
        return None

    values: dict[str, Any] = {}
    # Kind and NIP
    kind_text = _text(cell("kind")).lower()
    kind: str | None = None
    if kind_text:
        kind = _KINDS.get(kind_text)
        if kind is None:
            bad("kind", "kind", kind_text)
    nip_raw = cell("nip")
    nip, nip_problem = _nip_text(nip_raw)
    if kind == "external":
        if nip:
            bad("nip", "nip_for_external", nip)
    elif nip_problem:
        bad("nip", nip_problem, nip)
    elif nip:
        try:
            parsed = parse_nip(nip)
        except NipError as exc:
            bad("nip", exc.code, nip)
        else:
            if kind is None:
                kind = parsed.kind
            elif kind_text and parsed.kind != kind:
                bad("kind", "kind_mismatch", parsed.kind.upper())
            if nip in seen_nip:
                bad("nip", "duplicate_nip", seen_nip[nip])
            else:
                seen_nip[nip] = number
    elif kind in ("pns", "pppk") or "nip" in cols.fields:
        bad("nip", "required")
    if kind is None and not nip and "kind" in cols.fields and not kind_text:
        bad("kind", "required")
    values["kind"] = kind

    # Name, e-mail
    raw_name = cell("name")
    name = _text(raw_name)
    if not name:
        bad("name", "required")
    elif isinstance(raw_name, str) and _CONTROL.search(raw_name):
        bad("name", "control_chars", name)
    values["name"] = name
    email_raw = _text(cell("email"))
    email = ""
    if not email_raw:
        bad("email", "required")
    else:
        email = _email(email_raw)
        if not email:
            bad("email", "email", email_raw)
        else:
            if email in seen_email:
                bad("email", "duplicate_email", seen_email[email])
            else:
                seen_email[email] = number
            owner = existing.by_email.get(email)
            if owner is not None:
                asn_ids = existing.asn_ids
                mine = existing.by_nip.get(nip) if kind != "external" else (
                    None if owner in asn_ids else owner)
                if mine != owner:
                    bad("email", "email_taken", email)
    values["email"] = email

    # Grade and job level
    if "grade" in cols.fields:
        grade_raw = _text(cell("grade"))
        values["grade_rank"] = values["grade_label"] = None
        if grade_raw:
            try:
                grade = parse_grade(grade_raw)
            except GradeError:
                bad("grade", "grade", grade_raw)
            else:
                if kind in ("pns", "pppk") and grade.scheme != kind:
                    bad("grade", "grade_kind", grade_raw)
                values["grade_rank"], values["grade_label"] = grade.rank, grade.label
    if "job_level" in cols.fields:
        jl = _text(cell("job_level"))
        if jl and jl.lower() not in _JOB_LEVELS:
            bad("job_level", "job_level", jl)
        values["job_level"] = _JOB_LEVELS.get(jl.lower()) if jl else None

    for name_ in ("position", "organisation", "expertise"):
        if name_ in cols.fields:
            values[name_] = _text(cell(name_)) or None
    for name_, limit in _LIMITS.items():
        text = values.get(name_) if name_ in values else _text(cell(name_))
        if text and len(text) > limit:
            bad(name_, "too_long", text[:40] + "…")
    if kind == "external" and not values.get("organisation"):
        bad("organisation", "organisation_required")

    if "mode" in cols.fields:
        mode_raw = _text(cell("mode")).lower()
        if mode_raw:
            mode = _MODES.get(mode_raw)
            if mode is None:
                bad("mode", "mode", mode_raw)
            values["mode"] = mode
        else:
            values["mode"] = "either"
    if "priority" in cols.fields:
        values["is_priority"] = _text(cell("priority")).lower() in ("ya", "yes", "y", "1", "true")

    # Unit, location, time zone
    unit = _text(cell("unit")) or None if "unit" in cols.fields else None
    location = _text(cell("location")) or None if "location" in cols.fields else None
    tz_raw = _text(cell("timezone"))
    tz = _timezone(tz_raw)
    zone_source = "column" if tz else None
    if tz_raw and tz is None:
        bad("timezone", "timezone", tz_raw)
    elif tz is None:
        # inferred from the work location, else the province or city in the unit's name,
        # else the zone the coordinator chose for the file; never silently WIB
        known = existing.locations.get(location.lower()) if location else None
        if known:
            tz, zone_source = known[1], location
        elif location and _zone_for(location):
            tz, zone_source = _zone_for(location), location
        elif zones.infer_zone(unit, values.get("organisation")):
            tz, zone_source = zones.infer_zone(unit, values.get("organisation"))  # type: ignore[misc]
        elif existing.default_zone:
            tz, zone_source = existing.default_zone, "file"
        elif location:
            bad("location", "timezone_required", location)
        elif (existing.by_email.get(email) if kind == "external"
              else existing.by_nip.get(nip)) is None:  # known people keep their zone
            bad("timezone", "zone_unknown", unit or values.get("organisation") or "")
    if tz and not location:  # no location to carry the zone: the person carries it
        values["timezone_override"] = tz

    # Supervisor
    supervisor = None
    if "supervisor" in cols.fields:
        supervisor = _nip_text(cell("supervisor"))[0] or None
        if supervisor and supervisor == nip:
            bad("supervisor", "supervisor_self", supervisor)

    # Competencies
    comps: dict[str, tuple[int | None, int | None]] = {}
    for index, (code, target) in cols.comps.items():
        raw = record[index] if index < len(record) else None
        if _text(raw) == "":
            continue
        try:
            level = _level(raw)
        except ValueError:
            issues.append(ImportIssue(number, headers[index], "level", _text(raw)))
            continue
        cur, req = comps.get(code, (None, None))
        comps[code] = (cur, level) if target else (level, req)

    windows = None
    if "availability" in cols.fields:
        try:
            windows = parse_windows(_text(cell("availability")))
        except ValueError as exc:
            bad("availability", exc.args[0], exc.args[1])
    leaves = None
    if "leave" in cols.fields:
        try:
            leaves = parse_leaves(cell("leave"))
        except ValueError as exc:
            bad("leave", "leave", exc.args[0] if exc.args else cell("leave"))

    if len(issues) > start:
        return None
    for code, (cur, _req) in comps.items():
        if cur is None:  # a target without a current level
            issues.append(ImportIssue(number, code, "required", ""))
    if len(issues) > start:
        return None
    return _Row(
        row=number, kind=kind or "pns", key=nip if kind != "external" else email,
        values=values, comps=comps, windows=windows, leaves=leaves, supervisor=supervisor,
        unit=unit, location=location, timezone=tz, zone_source=zone_source,
    )


# --------------------------------------------------------------------------------------------
# Comparing with the database


_PERSON_FIELDS = ("kind", "name", "email", "grade_rank", "grade_label", "position", "job_level",
                  "organisation", "expertise", "mode", "is_priority", "timezone_override")


@dataclass
class _Snapshot:
    person: dict[int, dict[str, Any]]
    unit_name: dict[int, str]
    location_name: dict[int, str]
    comps: dict[int, dict[str, tuple[int, int, int | None]]]  # pid -> code -> (pc id, cur, req)
    windows: dict[int, list[tuple[int, int, int]]]
    leaves: dict[int, dict[tuple[date, date], int]]


def _chunks(items: list[int], size: int = 900) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _snapshot(ids: list[int]) -> _Snapshot:
    cols = [getattr(Person, f) for f in _PERSON_FIELDS]
    snap = _Snapshot({}, {}, {}, {}, {}, {})
    if not ids:
        return snap
    snap.unit_name = dict(db.session.execute(select(Unit.id, Unit.name)).all())
    snap.location_name = dict(db.session.execute(select(Location.id, Location.name)).all())
    codes = {c.id: c.code for c in by_code().values()}
    for chunk in _chunks(sorted(ids)):
        query = select(Person.id, Person.unit_id, Person.location_id, Person.supervisor_id,
                       *cols).where(Person.id.in_(chunk))
        for row in db.session.execute(query):
            data = dict(zip(("id", "unit_id", "location_id", "supervisor_id", *_PERSON_FIELDS),
                            row, strict=True))
            snap.person[row[0]] = data
        pcq = select(PersonCompetency.id, PersonCompetency.person_id,
                     PersonCompetency.competency_id, PersonCompetency.current_level,
                     PersonCompetency.required_level).where(PersonCompetency.person_id.in_(chunk))
        for pc_id, pid, cid, cur, req in db.session.execute(pcq):
            snap.comps.setdefault(pid, {})[codes[cid]] = (pc_id, cur, req)
        wq = select(AvailabilityWindow.person_id, AvailabilityWindow.weekday,
                    AvailabilityWindow.start_minute, AvailabilityWindow.end_minute
                    ).where(AvailabilityWindow.person_id.in_(chunk))
        for pid, wd, s, e in db.session.execute(wq):
            snap.windows.setdefault(pid, []).append((wd, s, e))
        lq = select(LeaveDate.id, LeaveDate.person_id, LeaveDate.start_date, LeaveDate.end_date
                    ).where(LeaveDate.person_id.in_(chunk))
        for lid, pid, s, e in db.session.execute(lq):
            snap.leaves.setdefault(pid, {})[(s, e)] = lid
    return snap


def _match(r: _Row, existing: _Existing) -> int | None:
    if r.kind == "external":
        return existing.by_email.get(r.key)
    return existing.by_nip.get(r.key)


def _changes(r: _Row, pid: int, snap: _Snapshot, supervisor_id: int | None) -> bool:
    return bool(_diff(r, pid, snap, supervisor_id))


def _diff(r: _Row, pid: int, snap: _Snapshot, supervisor_id: int | None) -> list[str]:
    """What an update row changes, as 'field: old → new' (the preview shows it per row)."""
    cur = snap.person[pid]
    out = []
    for name, value in r.values.items():
        old = (cur["email"] or "").lower() if name == "email" else cur.get(name)
        if old != value:
            out.append(f"{name}: {old if old not in (None, '') else '-'} → {value}")
    if r.unit is not None and snap.unit_name.get(cur["unit_id"]) != r.unit:
        out.append(f"unit: {snap.unit_name.get(cur['unit_id']) or '-'} → {r.unit}")
    if r.location is not None and snap.location_name.get(cur["location_id"]) != r.location:
        out.append(f"location: {snap.location_name.get(cur['location_id']) or '-'} → "
                   f"{r.location}")
    if r.supervisor is not None and cur["supervisor_id"] != supervisor_id:
        out.append(f"supervisor: → {r.supervisor}")
    have = snap.comps.get(pid, {})
    for code, (level, req) in r.comps.items():
        old = have.get(code)
        if old is None or old[1] != level or old[2] != req:
            before = f"{old[1]}/{old[2] or '-'}" if old else "-"
            out.append(f"{code}: {before} → {level}/{req or '-'}")
    if r.windows is not None and sorted(snap.windows.get(pid, [])) != r.windows:
        out.append(f"availability: {len(snap.windows.get(pid, []))} → {len(r.windows)}")
    if r.leaves is not None and sorted(snap.leaves.get(pid, {})) != r.leaves:
        out.append(f"leave: {len(snap.leaves.get(pid, {}))} → {len(r.leaves)}")
    return out


# --------------------------------------------------------------------------------------------
# Public API


def _check(data: bytes, filename: str, report: ImportReport,
           progress: Callable[[int], None] | None = None):
    rows, existing, _cols = _validate(data, filename, report, progress)
    if report.issues or existing is None:
        return rows, existing, None, {}
    ids = [pid for pid in (_match(r, existing) for r in rows) if pid is not None]
    snap = _snapshot(ids)
    changed: dict[int, bool] = {}
    diffs: dict[int, list[str]] = {}
    for i, r in enumerate(rows):
        pid = _match(r, existing)
        if pid is None:
            report.new += 1
            continue
        sup = existing.by_nip.get(r.supervisor) if r.supervisor else None
        if r.supervisor and sup is None:
            changed[r.row] = True  # supervisor is new in this file
            if i < SAMPLE_ROWS:
                diffs[r.row] = [f"supervisor: → {r.supervisor}"]
        elif i < SAMPLE_ROWS:  # the sampled rows say what changes
            diffs[r.row] = _diff(r, pid, snap, sup)
            changed[r.row] = bool(diffs[r.row])
        else:
            changed[r.row] = _changes(r, pid, snap, sup)
        if changed[r.row]:
            report.updated += 1
        else:
            report.unchanged += 1
    # the sample agrees with the counts: new / update (with its changes) / unchanged
    report.sample = [_sample(r, existing, changed, diffs) for r in rows[:SAMPLE_ROWS]]
    return rows, existing, snap, changed


SAMPLE_ROWS = 10


def _sample(r: _Row, existing: _Existing, changed: dict[int, bool] | None = None,
            diffs: dict[int, list[str]] | None = None) -> dict[str, Any]:
    matched = _match(r, existing) is not None
    return {
        "row": r.row, "name": r.values.get("name", ""), "nip": r.key if r.kind != "external"
        else "", "kind": r.kind, "grade": r.values.get("grade_label") or "",
        "unit": r.unit or "", "location": r.location or "",
        "zone": zones.LABELS.get(r.timezone or "", r.timezone or ""),
        "zone_source": r.zone_source or "",
        "competencies": len(r.comps), "windows": len(r.windows or ()),
        "action": ("update" if (changed or {}).get(r.row) else "unchanged") if matched
        else "new",
        "changes": (diffs or {}).get(r.row, []),
    }


def preview(data: bytes, filename: str, locale: str = "id",
            progress: Callable[[int], None] | None = None,
            default_zone: str | None = None) -> ImportReport:
    """Validate and count; writes nothing. ``default_zone``: the zone the coordinator chose
    for rows whose zone nothing in the file tells."""
    report = ImportReport(filename=filename, locale=locale)
    report.default_zone = default_zone if default_zone in zones.LABELS else None
    _check(data, filename, report, progress)
    return report


def apply(data: bytes, filename: str, actor: Actor, locale: str = "id",
          progress: Callable[[int], None] | None = None,
          default_zone: str | None = None) -> ImportReport:
    """Validate, then write everything or nothing (the caller commits)."""
    report = ImportReport(filename=filename, locale=locale)
    report.default_zone = default_zone if default_zone in zones.LABELS else None
    rows, existing, snap, changed = _check(data, filename, report, progress)
    if report.issues or existing is None or snap is None:
        return report
    _write(rows, existing, snap, changed)
    audit.record(actor, "people.import", None, filename=filename, **report.summary())
    db.session.flush()
    report.applied = True
    return report


def _write(rows: list[_Row], existing: _Existing, snap: _Snapshot,
           changed: dict[int, bool]) -> None:
    session = db.session
    session.flush()
    # Units and locations on demand.
    units = {name: uid for uid, name in session.execute(select(Unit.id, Unit.name))}
    new_units = sorted({r.unit for r in rows if r.unit and r.unit not in units})
    if new_units:
        session.execute(insert(Unit.__table__), [{"name": n} for n in new_units])
        units = {name: uid for uid, name in session.execute(select(Unit.id, Unit.name))}
    locs = {name.lower(): lid for lid, name in session.execute(select(Location.id, Location.name))}
    new_locs: dict[str, dict[str, str]] = {}
    for r in rows:
        if r.location and r.location.lower() not in locs:
            new_locs.setdefault(r.location.lower(), {
                "name": r.location, "city": _city_of(r.location),
                "timezone": r.timezone or "Asia/Jakarta"})
    if new_locs:
        session.execute(insert(Location.__table__), list(new_locs.values()))
        locs = {n.lower(): lid for lid, n in session.execute(select(Location.id, Location.name))}

    def person_values(r: _Row) -> dict[str, Any]:
        values = {k: v for k, v in r.values.items() if k != "kind" or v is not None}
        values["kind"] = r.kind
        if r.kind == "external":
            values["nip"] = None
        else:
            values["nip"] = r.key
        if r.unit is not None:
            values["unit_id"] = units[r.unit]
        if r.location is not None:
            values["location_id"] = locs[r.location.lower()]
        return values

    # New people: one bulk INSERT ... RETURNING.
    new_rows = [r for r in rows if _match(r, existing) is None]
    ids: dict[int, int] = {}  # file row -> person id
    if new_rows:
        params = [person_values(r) for r in new_rows]
        keys = set().union(*(p.keys() for p in params))
        params = [{k: p.get(k) for k in keys} for p in params]
        for p in params:
            if p.get("mode") is None:
                p["mode"] = "either"
            if p.get("is_priority") is None:
                p["is_priority"] = False
        # Plain executemany (INSERT .. RETURNING in parameter order runs row by row on SQLite),
        # then one read-back of the ids by the natural keys.
        session.execute(insert(Person.__table__), params)
        back_nip: dict[str, int] = {}
        back_email: dict[str, int] = {}
        for pid, nip, email in session.execute(select(Person.id, Person.nip, Person.email)):
            if nip:
                back_nip[nip] = pid
            back_email[email.lower()] = pid
        for r in new_rows:
            ids[r.row] = back_email[r.key] if r.kind == "external" else back_nip[r.key]
    updates: list[dict[str, Any]] = []
    for r in rows:
        pid = _match(r, existing)
        if pid is None:
            continue
        ids[r.row] = pid
        if changed.get(r.row):
            updates.append({"id": pid, **person_values(r)})
    for group in _group_by_keys(updates):
        session.execute(update(Person), group)

    # Supervisors, now that everybody has an id.
    nip_to_id = dict(existing.by_nip)
    nip_to_id.update({r.key: ids[r.row] for r in rows if r.kind != "external"})
    sup_updates = [{"b_id": ids[r.row], "b_sup": nip_to_id[r.supervisor]}
                   for r in rows if r.supervisor and (r.row not in changed or changed[r.row])]
    if sup_updates:  # one Core executemany (the ORM bulk path runs a statement per row)
        table = Person.__table__
        session.execute(
            update(table).where(table.c.id == bindparam("b_id"))
            .values(supervisor_id=bindparam("b_sup")),
            sup_updates,
        )

    # Competencies, availability, leave.
    codes = by_code()
    pc_insert: list[dict[str, Any]] = []
    pc_update: list[dict[str, Any]] = []
    win_delete: list[int] = []
    win_insert: list[dict[str, Any]] = []
    leave_delete: list[int] = []
    leave_insert: list[dict[str, Any]] = []
    for r in rows:
        if r.row in changed and not changed[r.row]:
            continue
        pid = ids[r.row]
        have = snap.comps.get(pid, {})
        for code, (level, req) in r.comps.items():
            old = have.get(code)
            if old is None:
                pc_insert.append({"person_id": pid, "competency_id": codes[code].id,
                                  "current_level": level, "required_level": req,
                                  "baseline_level": None})
            elif (old[1], old[2]) != (level, req):
                pc_update.append({"id": old[0], "current_level": level, "required_level": req})
        if r.windows is not None and sorted(snap.windows.get(pid, [])) != r.windows:
            if pid in snap.windows:
                win_delete.append(pid)
            win_insert.extend({"person_id": pid, "weekday": d, "start_minute": s,
                               "end_minute": e} for d, s, e in r.windows)
        if r.leaves is not None:
            old_leaves = snap.leaves.get(pid, {})
            wanted = set(r.leaves)
            leave_delete.extend(lid for span, lid in old_leaves.items() if span not in wanted)
            leave_insert.extend({"person_id": pid, "start_date": s, "end_date": e,
                                 "reason": None, "created_at": None}
                                for s, e in r.leaves if (s, e) not in old_leaves)
    for chunk in _chunks(win_delete):
        session.execute(delete(AvailabilityWindow).where(
            AvailabilityWindow.person_id.in_(chunk)))
    for chunk in _chunks(leave_delete):
        session.execute(delete(LeaveDate).where(LeaveDate.id.in_(chunk)))
    if pc_update:
        session.execute(update(PersonCompetency), pc_update)
    if pc_insert:
        session.execute(insert(PersonCompetency.__table__), pc_insert)
    if win_insert:
        session.execute(insert(AvailabilityWindow.__table__), win_insert)
    if leave_insert:
        session.execute(insert(LeaveDate.__table__), leave_insert)
    session.flush()
    session.expire_all()


def _group_by_keys(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return groups.values()


# --------------------------------------------------------------------------------------------
# Templates


def _example_row() -> list[Any]:
    return [
        "198503122010011001", "Siti Rahmawati", "siti.rahmawati@example.go.id", "PNS", "III/c",
        "Analis Kebijakan", "Ahli Muda", "Dinas Kominfo", "Padang (Pauh)", "Asia/Jakarta", "",
        "", "", "online", "Sen 09:00-12:00; Kam 13:00-15:00", "2026-12-01..2026-12-05",
    ]


def _template_headers() -> list[str]:
    headers = list(TEMPLATE_HEADERS)
    for code in by_code():
        headers += [code, f"{code} Target"]
    return headers


def _template_example() -> list[Any]:
    row = _example_row()
    for i, _code in enumerate(by_code()):
        row += [2 + i % 2, 3 + i % 2]
    return row


def template_csv() -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(_template_headers())
    writer.writerow(_template_example())
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Pegawai"
    headers = _template_headers()
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.append(_template_example())
    ws["A2"].number_format = "@"  # NIP as text
    for column in ("A", "K"):
        for cell in ws[column]:
            cell.number_format = "@"
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# CLI


def run_import_cli(path: str | os.PathLike[str], dry_run: bool = False,
                   echo: Callable[[str], Any] | None = None, actor: Actor = None,
                   locale: str = "id") -> bool:
    """Called by `mentormatch import FILE [--dry-run]` inside an app context.

    Prints progress every 1,000 rows, every problem and the counts; returns True when the file
    is valid (and, without dry_run, written to the session). The caller commits on True and
    rolls back on False (exit code 0 / 1), like any other service boundary."""
    say = echo or print
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        say(f"{path}: {exc}")
        return False

    def progress(n: int) -> None:
        say(f"... {n} rows" if locale == "en" else f"... {n} baris")

    filename = Path(path).name
    if dry_run:
        report = preview(data, filename, locale, progress)
    else:
        report = apply(data, filename, actor, locale, progress)
    for line in report.warnings():
        say(line)
    for line in report.messages():
        say(line)
    s = report.summary()
    if locale == "en":
        say(f"{filename}: {s['rows']} rows ({s['empty_rows']} empty skipped): {s['new']} new, "
            f"{s['updated']} updated, {s['unchanged']} unchanged, {s['errors']} with errors")
    else:
        say(f"{filename}: {s['rows']} baris ({s['empty_rows']} kosong dilewati): {s['new']} baru, "
            f"{s['updated']} diperbarui, {s['unchanged']} tidak berubah, {s['errors']} bermasalah")
    if not report.ok:
        say("Tidak ada data yang disimpan." if locale != "en" else "Nothing was written.")
    elif dry_run:
        say("Uji coba: tidak ada yang disimpan." if locale != "en" else "Dry run: nothing written.")
    return report.ok
