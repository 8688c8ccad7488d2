"""Blueprints: thin views that parse input, call a service, commit once and render."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import (
        admin,
        auth,
        calendar_views,
        health,
        home,
        mailbox,
        pairs,
        participants,
        people,
        reports,
        rounds,
        staff_import,
    )

    for module in (auth, health, home, mailbox, people, staff_import, calendar_views, rounds,
                   participants, reports, admin, pairs):
        app.register_blueprint(module.bp)
