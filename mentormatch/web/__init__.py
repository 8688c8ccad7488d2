"""Blueprints: thin views that parse input, call a service, commit once and render."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    # the rounds blueprint's other routes, one module per job, join it on import
    from . import (  # noqa: F401
        admin,
        auth,
        calendar_views,
        certificate_verify,
        health,
        home,
        inbound,
        mailbox,
        pairs,
        participants,
        people,
        reports,
        rounds,
        rounds_audit,
        rounds_preferences,
        rounds_programme,
        staff_import,
        working_hours,
    )
    for module in (auth, health, home, mailbox, people, staff_import, calendar_views, rounds,
                   participants, reports, admin, working_hours, inbound, pairs,
                   certificate_verify):
        app.register_blueprint(module.bp)

    from . import api_clients, forms

    forms.init_app(app)

    app.register_blueprint(api_clients.bp)
    from .sso import init_sso

    init_sso(app)
    from .api_v1 import init_api

    init_api(app)
