"""Views never commit or roll back: the request does, once, in web/transaction.py (named
exceptions go through its ``committed()`` block). A ``.commit()`` or ``.rollback()`` call
anywhere else under mentormatch/web fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import mentormatch.web

WEB = Path(mentormatch.web.__file__).parent
ALLOWED = {WEB / "transaction.py"}
FORBIDDEN = {"commit", "rollback"}


def session_calls(source: str) -> list[tuple[int, str]]:
    """(line, name) of every ``<anything>.commit()`` / ``.rollback()`` call in ``source``."""
    return [(node.lineno, node.func.attr) for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in FORBIDDEN]


def test_the_check_finds_calls():
    source = ("from x import db\n"
              "def view():\n"
              "    db.session.commit()\n"
              "    session().rollback()\n"
              "    commit_later = 1\n")
    assert session_calls(source) == [(3, "commit"), (4, "rollback")]


def test_views_never_commit_or_roll_back():
    modules = sorted(p for p in WEB.rglob("*.py") if p not in ALLOWED)
    assert len(modules) > 20  # the walk did find the views
    found = [f"{path.relative_to(WEB.parent.parent)}:{line}: .{name}()"
             for path in modules
             for line, name in session_calls(path.read_text(encoding="utf-8"))]
    assert found == [], ("commit and roll back through mentormatch/web/transaction.py "
                         "(the request's end, refused()/refuse(), committed()):\n"
                         + "\n".join(found))
