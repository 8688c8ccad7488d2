"""Refresh the translation catalogues: extract msgids, merge into id/messages.po, compile .mo.

Run after changing UI strings: `python scripts/i18n.py`. Untranslated strings are listed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "mentormatch" / "translations"


def main() -> int:
    pot = ROOT / "build" / "messages.pot"
    pot.parent.mkdir(exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_ngettext:1,2", "--no-location",
         "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        template = read_po(fh)
    missing = []
    for locale in ("id",):
        po_path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        po_path.parent.mkdir(parents=True, exist_ok=True)
        if po_path.exists():
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
        else:
            from babel.messages.catalog import Catalog

            catalog = Catalog(locale=locale)
        catalog.update(template, no_fuzzy_matching=True)
        for message in catalog:
            if message.id and not message.string:
                missing.append(message.id)
        with po_path.open("wb") as fh:
            write_po(fh, catalog, omit_header=False, sort_output=True, no_location=True,
                     ignore_obsolete=True)
        with (po_path.with_suffix(".mo")).open("wb") as fh:
            write_mo(fh, catalog)
    for msgid in missing:
        print("untranslated:", msgid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
