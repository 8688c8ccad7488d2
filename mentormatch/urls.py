"""Absolute links and redirect targets.

Every absolute link the product writes (activation, password reset, RSVP, calendar feed, links in
e-mails and invitations) comes from the configured ``app.base_url`` and never from the request:
a forged ``Host:`` or ``X-Forwarded-Host:`` must not end up in a mailed link. Works with only an
application context (jobs, CLI), so services never need a made-up request.

:func:`safe_next` is the one check for every ``next`` parameter: only a path on this site.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app

from .settings import settings


def base_url() -> str:
    """The configured public address, without a trailing slash."""
    return settings().app.base_url.rstrip("/")


def external(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` under ``app.base_url``."""
    parts = urlsplit(base_url())
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def trusted_hosts(base_url: str, extra: Sequence[str] | str) -> list[str]:
    """Host names the app answers to: base_url's host plus ``app.trusted_hosts``."""
    host = urlsplit(base_url).hostname or ""
    if isinstance(extra, str):
        extra = [h for h in extra.replace(",", " ").split() if h]
    names = [host] + [str(h).strip().lower() for h in extra]
    return list(dict.fromkeys(n for n in names if n))


def _is_local_path(value: str) -> bool:
    if not value.startswith("/") or len(value) > 2000:
        return False
    # Control characters (tab, CR, LF ...) and backslashes are dropped or read as "/" by
    # browsers, turning "/\tevil.example" or "/\\evil.example" into another host.
    if any(ord(c) < 0x20 or c == "\x7f" or c == "\\" for c in value):
        return False
    if value.startswith("//"):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def safe_next(value: str | None, default: str) -> str:
    """``value`` when it is a path on this site (also after percent-decoding, which some
    clients and proxies apply again), else ``default``."""
    if not value:
        return default
    decoded = value
    for _ in range(3):
        if not _is_local_path(decoded):
            return default
        again = unquote(decoded)
        if again == decoded:
            return value
        decoded = again
    return default
