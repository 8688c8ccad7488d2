"""The bounds of one import check: rows, errors kept and shown, time, empty run, columns."""

from __future__ import annotations

#: defaults of the [import] settings (config/defaults.toml)
LIMIT_DEFAULTS = {"max_rows": 50_000, "max_errors_shown": 200, "max_errors_kept": 20_000,
                  "time_budget_seconds": 60, "max_empty_run": 1_000, "max_columns": 500}


def limits() -> dict[str, int]:
    """The bounds of one import check (rows, errors kept and shown, time, empty run)."""
    try:
        from flask import current_app

        cfg = current_app.config["MM"].get("import", {})
    except RuntimeError:  # no application (a bench or a unit test)
        cfg = {}
    return {k: int(cfg.get(k, v)) for k, v in LIMIT_DEFAULTS.items()}
