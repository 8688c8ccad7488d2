"""Blueprints: thin views that parse input, call a service, commit once and render."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import auth, health, home, mailbox, people

    for module in (auth, health, home, mailbox, people):
        app.register_blueprint(module.bp)
