"""The solve worker process: its entry points, above every layer.

A worker process (see ``jobs/solve_pool.py``) builds its own app from the scheduler's settings
and solves one claimed round at a time in it. Building the app takes the web layer along, so
these entry points live here, beside ``create_app``; the app hands them to the pool
(``solve_pool.register``) and the jobs never import them. They are module-level functions:
the spawned process receives them by name.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from .settings import Settings

_app: Flask | None = None


def init_process(settings: Settings) -> None:
    """Build the process's app once, when the pool starts the process, with the scheduler's
    typed settings (no second load: the same values, whatever this process's environment)."""
    global _app
    from . import create_app

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _app = create_app(settings)


def solve_round(round_id: int, token: str) -> str:
    """Solve a claimed round in this process's app; returns solved | failed | abandoned."""
    from .extensions import db
    from .services import rounds

    assert _app is not None
    with _app.app_context():
        try:
            return rounds.solve_claimed(round_id, token)
        finally:
            db.session.remove()


__all__ = ["init_process", "solve_round"]
