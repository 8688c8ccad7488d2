"""Reading CSV and XLSX files into numbered rows of cell values, within the check's bounds
(rows, columns, time): a hostile file is refused early and never held whole as cells."""

from __future__ import annotations

import csv
import io
import threading
import zipfile
from collections.abc import Iterator
from typing import Any

from ...settings import ImportSettings
from .bounds import limits
from .cells import cell_text
from .report import ImportIssue


class FileError(Exception):
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


def read_csv(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = decode_csv(data)
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    # lines handed out one by one: an io.StringIO copy of a 20 MB file would cost 80 MB
    reader = csv.reader(_lines(text), delimiter=delimiter)
    try:
        for number, record in enumerate(reader, start=1):
            yield number, list(record)
    except csv.Error as exc:
        raise FileError(ImportIssue(None, None, "bad_file", str(exc))) from exc


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


def _load_xlsx(data: bytes, data_only: bool) -> Any:
    """openpyxl's read-only workbook without its size scan: a sheet with no <dimension>
    element is otherwise parsed from end to end on opening (seconds per 100,000 rows); we
    reset the dimensions anyway and stream the rows once."""
    import openpyxl
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    with _LOAD_LOCK:
        original = ReadOnlyWorksheet._get_size
        ReadOnlyWorksheet._get_size = lambda self: None
        try:
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
        finally:
            ReadOnlyWorksheet._get_size = original


def _xlsx_value_rows(data: bytes, stop_after: int) -> int:
    """Rows of the first sheet holding at least one value, counted in its raw XML (fast, no
    cell objects); stops counting past ``stop_after``."""
    wb = _load_xlsx(data, data_only=True)
    try:
        path = wb.worksheets[0]._worksheet_path
    finally:
        wb.close()
    count, tail = 0, b""
    budget = Budget()
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


def too_many_rows(data: bytes, filename: str, width: int, lim: ImportSettings) -> bool:
    """A cheap first pass: more data rows than allowed? (Before any row is validated, so a
    huge file is refused in seconds and without holding its rows.)"""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        try:
            return _xlsx_value_rows(data, lim.max_rows + 1) > lim.max_rows + 1
        except (zipfile.BadZipFile, KeyError, IndexError, OSError):
            return False  # the real reader reports the broken file
    rows = empty_run = 0
    budget = Budget()
    for scanned, (_number, record) in enumerate(read_rows(data, filename), start=1):
        budget.check(scanned)
        if any(cell_text(v) for v in record[:width]):
            rows += 1
            empty_run = 0
            if rows > lim.max_rows + 1:  # + the header row
                return True
        else:
            empty_run += 1
            if empty_run >= lim.max_empty_run and rows:
                break
    return False


def _read_xlsx(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl.utils import get_column_letter

    try:
        has_formula = _xlsx_has_formulas(data)
        wb = _load_xlsx(data, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise FileError(ImportIssue(None, None, "bad_file", type(exc).__name__)) from exc
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
                budget = Budget()
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
                    values[c] = Formula(f"{get_column_letter(c + 1)}{r}")
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


class Budget:
    """The time budget of one check, tested every 1,000 rows read."""

    def __init__(self) -> None:
        import time

        lim = limits()
        self.seconds = lim.time_budget_seconds
        self.deadline = time.monotonic() + self.seconds
        # rows read at most, data or empty (the empty run stops reading earlier)
        self.max_scan = (lim.max_rows + 1) * 4 + lim.max_empty_run

    def check(self, n: int) -> None:
        import time

        if n % 1000 == 0 and time.monotonic() > self.deadline:
            raise FileError(ImportIssue(None, None, "too_slow", f"{self.seconds:g}"))


class Formula(str):
    """Marks a formula cell with no cached value (the string is the cell reference)."""


def read_rows(data: bytes, filename: str) -> Iterator[tuple[int, list[Any]]]:
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    return read_csv(data)
