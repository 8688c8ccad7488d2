"""The bounds of one import check: rows, errors kept and shown, time, empty run, columns."""

from __future__ import annotations

from ...settings import ImportSettings


def limits() -> ImportSettings:
    """The `[import]` bounds of the running app; outside an app (a bench, a unit test) the
    same settings loaded on their own (the defaults live only in config/defaults.toml)."""
    from flask import has_app_context

    if has_app_context():
        from ...settings import settings

        return settings().import_
    from ...config import standalone

    return standalone().import_
