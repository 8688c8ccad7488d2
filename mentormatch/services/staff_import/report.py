"""What a check or an import found: counts, problems (kept up to a bound) and a sample."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from .bounds import limits
from .messages import message, reader_locale, render


@dataclass(frozen=True)
class ImportIssue:
    row: int | None  # spreadsheet row number (header = 1); None for file-level problems
    column: str | None  # the header as written in the file
    code: str
    value: str = ""

    def message(self, locale: str = "id") -> str:
        return message(self.code, self.value, locale)


class IssueList(list[ImportIssue]):
    """The issue list of one report: keeps the first ``keep`` issues and counts the rest, so a
    file full of errors cannot fill the memory or the preview page."""

    def __init__(self, keep: int | None = None) -> None:
        super().__init__()
        self.keep = limits().max_errors_kept if keep is None else keep
        self.dropped = 0

    def append(self, issue: ImportIssue) -> None:
        if len(self) < self.keep:
            super().append(issue)
        else:
            self.dropped += 1

    def extend(self, issues: Iterable[ImportIssue]) -> None:
        for issue in issues:
            self.append(issue)


@dataclass
class ImportReport:
    filename: str
    locale: str = "id"
    rows: int = 0  # non-empty data rows
    empty_rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    issues: list[ImportIssue] = field(default_factory=IssueList)
    # Columns a real SIASN export carries that we do not use (Tanggal Lahir, Agama, ...).
    ignored_columns: list[str] = field(default_factory=list)
    # The first rows as they will be stored, so the coordinator can check the reading.
    sample: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False
    stopped_at_empty: int = 0  # reading ended after this many empty rows in a row
    default_zone: str | None = None  # the coordinator's zone for rows nothing tells apart

    def warnings(self, locale: str | None = None) -> list[str]:
        out = []
        with force_locale(reader_locale(locale or self.locale)):
            if self.ignored_columns:
                out.append(render("ignored_columns", ", ".join(self.ignored_columns)))
            if self.stopped_at_empty:
                out.append(render("stopped_at_empty", str(self.stopped_at_empty)))
        return out

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def issue_total(self) -> int:
        """Every problem found, also those beyond the ones kept."""
        return len(self.issues) + getattr(self.issues, "dropped", 0)

    def shown_issues(self, limit: int | None = None) -> list[ImportIssue]:
        return list(self.issues[: limits().max_errors_shown if limit is None else limit])

    def errors_csv(self, locale: str | None = None) -> bytes:
        """Every kept problem as CSV (row; column; problem) for download."""
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        with force_locale(reader_locale(locale or self.locale)):
            writer.writerow([_("Row"), _("Column"), _("Problem")])
            for i in self.issues:
                writer.writerow(["" if i.row is None else i.row, i.column or "",
                                 render(i.code, i.value)])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")

    @property
    def errors(self) -> int:
        """Rows with at least one problem (file-level problems count as one)."""
        return len({(i.row if i.row is not None else -1) for i in self.issues})

    def messages(self, locale: str | None = None) -> list[str]:
        """Each problem on one line: where (row, column) and what."""
        out = []
        with force_locale(reader_locale(locale or self.locale)):
            for i in self.issues:
                where = []
                if i.row is not None:
                    where.append(_("row %(number)s", number=i.row))
                if i.column:
                    where.append(_("column %(name)s", name=i.column))
                out.append((", ".join(where) + ": " if where else "") + render(i.code, i.value))
        return out

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.rows, "empty_rows": self.empty_rows, "new": self.new,
            "updated": self.updated, "unchanged": self.unchanged, "errors": self.errors,
        }
