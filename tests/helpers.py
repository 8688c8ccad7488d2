"""HTTP test helpers: read the CSRF token from a page, log in through the real form."""

from __future__ import annotations

import re

from tests.factories import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_from(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def form_login(client, email: str, password: str = PASSWORD):
    token = csrf_from(client, "/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})
