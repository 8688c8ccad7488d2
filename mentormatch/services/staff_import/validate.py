"""A whole file through the header mapping, the bounds and the row rules, against the people
already in the database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select

from ...extensions import db
from ...models import Location, Person
from ..catalogue import by_code
from .bounds import limits
from .cells import cell_text
from .headers import Columns, map_headers
from .reading import Budget, FileError, read_rows, too_many_rows
from .report import ImportIssue, ImportReport
from .rules import Existing, Row, validate_row


def load_existing() -> Existing:
    """The people and locations already stored, keyed as the rows match them."""
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
    return Existing(by_nip, by_email, email_of, set(by_nip.values()), locations)


def validate_file(
    data: bytes, filename: str, report: ImportReport, progress: Callable[[int], None] | None = None
) -> tuple[list[Row], Existing | None, Columns | None]:
    """(valid rows, the database's people, the column map); every problem goes to
    ``report.issues``. Bounds first (columns, then rows in a cheap pass), so a huge file is
    refused before a row is checked."""
    catalogue = by_code()
    rows_iter = read_rows(data, filename)
    issues = report.issues
    out: list[Row] = []
    try:
        header = _header_row(rows_iter)
        if header is None:
            issues.append(ImportIssue(None, None, "empty_file", ""))
            return [], None, None
        lim = limits()
        if len(header) > lim.max_columns:
            if any(cell_text(v) for v in header[lim.max_columns:]):
                issues.append(ImportIssue(None, None, "too_many_columns",
                                          str(lim.max_columns)))
                return [], None, None
            header = header[: lim.max_columns]
        cols, header_issues = map_headers(header, catalogue)
        issues.extend(header_issues)
        report.ignored_columns = list(cols.ignored)
        if any(i.code == "missing_column" for i in header_issues):
            return [], None, cols
        width = max([*cols.fields.values(), *cols.comps.keys(), 0]) + 1
        if too_many_rows(data, filename, width, lim):
            issues.append(ImportIssue(None, None, "too_many_rows",
                                      f"{lim.max_rows:,}".replace(",", ".")))
            return [], None, None
        existing = load_existing()
        existing.default_zone = report.default_zone
        seen_nip: dict[str, int] = {}
        seen_email: dict[str, int] = {}
        budget = Budget()
        empty_run = scanned = 0
        for number, record in rows_iter:
            scanned += 1
            budget.check(scanned)
            if len(record) > width:
                record = record[:width]  # columns we do not read cost nothing
            if not any(cell_text(v) for v in record):
                report.empty_rows += 1
                empty_run += 1
                if empty_run >= lim.max_empty_run:
                    # the sheet's real end: formatting often reaches far below the data
                    report.empty_rows -= empty_run
                    report.stopped_at_empty = empty_run
                    break
                continue
            empty_run = 0
            if report.rows >= lim.max_rows:
                issues.append(ImportIssue(None, None, "too_many_rows", f"{lim.max_rows:,}"
                                          .replace(",", ".")))
                return [], None, None
            report.rows += 1
            if progress and report.rows % 1000 == 0:
                progress(report.rows)
            parsed = validate_row(number, record, cols, existing, issues, seen_nip, seen_email)
            if parsed is not None:
                out.append(parsed)
    except FileError as exc:
        issues.append(exc.issue)
        return [], None, None
    _supervisors_known(out, set(seen_nip), existing, cols, issues)
    if not out and not issues and report.rows == 0:
        issues.append(ImportIssue(None, None, "empty_file", ""))
    return out, existing, cols


def _header_row(rows_iter: Iterator[tuple[int, list[Any]]]) -> list[Any] | None:
    """The first non-empty row, searched no further than the empty run allowed."""
    for number, record in rows_iter:
        if any(cell_text(v) for v in record[:limits().max_columns * 2]):
            return record
        if number >= limits().max_empty_run:
            break  # no header near the top: an empty sheet
    return None


def _supervisors_known(rows: list[Row], file_nips: set[str], existing: Existing,
                       cols: Columns, issues: list[ImportIssue]) -> None:
    """Each supervisor NIP is in the file (rows with a bad value elsewhere still count) or in
    the database."""
    for r in rows:
        if r.supervisor and r.supervisor not in file_nips and r.supervisor not in existing.by_nip:
            issues.append(ImportIssue(r.row, cols.headers[cols.fields["supervisor"]],
                                      "supervisor_unknown", r.supervisor))
