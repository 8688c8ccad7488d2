"""`mentormatch import FILE [--dry-run]`: the same check and write, reported line by line."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from ...models import Actor
from .messages import reader_locale
from .preview import preview
from .report import ImportReport
from .writing import apply


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

    with force_locale(reader_locale(locale)):
        report = _run(data, Path(path).name, dry_run, say, actor, locale)
        s = report.summary()
        say(_("%(file)s: %(rows)s rows (%(empty)s empty skipped): %(new)s new, %(updated)s "
              "updated, %(unchanged)s unchanged, %(errors)s with errors", file=report.filename,
              rows=s["rows"], empty=s["empty_rows"], new=s["new"], updated=s["updated"],
              unchanged=s["unchanged"], errors=s["errors"]))
        if not report.ok:
            say(_("Nothing was written."))
        elif dry_run:
            say(_("Dry run: nothing written."))
    return report.ok


def _run(data: bytes, filename: str, dry_run: bool, say: Callable[[str], Any], actor: Actor,
         locale: str) -> ImportReport:
    """Check (and unless ``dry_run`` write) the file, saying progress and every problem."""

    def progress(n: int) -> None:
        say(_("... %(count)s rows", count=n))

    if dry_run:
        report = preview(data, filename, locale, progress)
    else:
        report = apply(data, filename, actor, locale, progress)
    for line in report.warnings():
        say(line)
    for line in report.messages():
        say(line)
    return report
