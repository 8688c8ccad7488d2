"""Helpers shared by the tests, kept in one place so every test drives the app the same way:
the CSRF token of a page and the real login form (HTTP client and browser), and the SQL
statements a block of code runs (the guards against a query per row), and settings changed
in a running test app."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from mentormatch.extensions import db
from mentormatch.settings import Settings, install, settings, validate
from tests.factories import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_in(html: str) -> str:
    """The CSRF token of the (first) form on a page already fetched."""
    match = _TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def csrf_from(client, path: str) -> str:
    return csrf_in(client.get(path).get_data(as_text=True))


def form_login(client, email: str, password: str = PASSWORD):
    token = csrf_from(client, "/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})


def browser_login(page, base: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the login form in a real browser page and wait for the home page."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("#login")
    page.wait_for_url(f"{base}/")


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block, in order (a test can count
    them, or look for the ones that touch a table)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def count_statements(fn: Callable[[], object]) -> int:
    """How many SQL statements `fn()` runs."""
    with recorded_statements() as seen:
        fn()
    return len(seen)


def set_settings(app, changes: Mapping[str, Mapping[str, Any]] | None = None, /,
                 **sections: Mapping[str, Any]) -> Settings:
    """Change some settings of a running test app, validated as at a start (a wrong type or
    an unknown key raises): ``set_settings(app, mail={"max_attempts": 3})``, or
    ``set_settings(app, {"import": {...}})`` for a section whose name is a keyword."""
    raw = settings(app).model_dump(by_alias=True)
    for section, values in {**(changes or {}), **sections}.items():
        raw[section] = _merged(raw.get(section, {}), values)
    typed = validate(raw)
    install(app, typed)
    return typed


def _merged(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in values.items():
        out[key] = (_merged(out[key], value)
                    if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) else value)
    return out


_BURN = "import time\nt = time.time() + {s}\nwhile time.time() < t:\n    pass\n"


@contextmanager
def cores_busy(n: int = 2, seconds: int = 60) -> Iterator[None]:
    """``n`` busy-looping processes for the block (at most ``seconds``): a loaded machine,
    for the checks that a result does not depend on the clock."""
    burners = [subprocess.Popen([sys.executable, "-c", _BURN.format(s=seconds)])
               for _ in range(n)]
    try:
        yield
    finally:
        for b in burners:
            b.kill()
            b.wait()
