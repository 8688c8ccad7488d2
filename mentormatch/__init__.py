"""MentorMatch ASN: mentoring matchmaking and scheduling for Indonesian civil servants."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the WSGI app. `config` holds nested settings overrides (see config/defaults.toml)."""
    from .app_setup import build_app

    return build_app(config)
