"""Locate the top-level `templates/` and `config/` folders.

In a checkout (or an editable install) they sit beside the package; a wheel carries them inside the
package as `_resources/` (see pyproject's force-include), so both layouts are looked up here.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_resources" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"MentorMatch resource folder {name!r} not found next to {_PACKAGE}")
