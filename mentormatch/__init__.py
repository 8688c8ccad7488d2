"""MentorMatch ASN: mentoring matchmaking and scheduling for Indonesian civil servants."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from .settings import Settings


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """Build the WSGI app. `config` holds nested settings overrides (see config/defaults.toml),
    or typed settings already loaded (mentormatch/settings.py)."""
    from .app_setup import build_app

    return build_app(config)
