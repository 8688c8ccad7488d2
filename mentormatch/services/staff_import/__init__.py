"""Staff import from CSV and XLSX (documented template and SIASN-style headers).

`preview()` validates and counts without writing; `apply()` writes nothing unless the whole file is
valid, then upserts (ASN by NIP, externals by e-mail) with bulk statements in the caller's
transaction (services flush, never commit). Messages come in Bahasa Indonesia and English.

One module per job, each importing only those below it:

- ``reading``: CSV / XLSX into numbered rows, within ``bounds`` (rows, columns, time);
- ``headers``: which column holds which field or competency;
- ``cells`` and ``rules``: one value, then one row's rules as small named functions;
- ``validate``: a whole file through the three above; ``preview``: matched with the database;
- ``writing``: ``apply()``; ``templates``: the downloadable template; ``cli``: the command;
- ``report`` and ``messages``: what was found, and what each problem code says.
"""

from __future__ import annotations

from .bounds import limits
from .cells import parse_leaves, parse_windows
from .cli import run_import_cli
from .headers import FIELD_ALIASES, TEMPLATE_HEADERS
from .messages import message
from .preview import SAMPLE_ROWS, preview
from .reading import decode_csv
from .report import ImportIssue, ImportReport
from .templates import template_csv, template_xlsx
from .writing import ImportRefused, apply

__all__ = [
    "FIELD_ALIASES", "SAMPLE_ROWS", "TEMPLATE_HEADERS", "ImportIssue",
    "ImportRefused", "ImportReport", "apply", "decode_csv", "limits", "message", "parse_leaves",
    "parse_windows", "preview", "run_import_cli", "template_csv", "template_xlsx",
]
