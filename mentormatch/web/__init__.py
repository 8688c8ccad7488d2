"""Blueprints: thin views that parse input, call a service, commit once and render."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    import contextlib
    import importlib

    from . import auth, health, home, mailbox, people

    modules = [auth, health, home, mailbox, people]
    for optional in ("staff_import", "calendar_views", "rounds", "participants", "reports"):
        with contextlib.suppress(ModuleNotFoundError):
            modules.append(importlib.import_module(f"{__name__}.{optional}"))
    for module in modules:
        app.register_blueprint(module.bp)
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
