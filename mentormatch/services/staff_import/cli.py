"""`mentormatch import FILE [--dry-run]`: the same check and write, reported line by line."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...models import Actor
from .preview import preview
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
