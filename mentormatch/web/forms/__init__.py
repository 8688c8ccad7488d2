"""Flask-WTF forms, one module per blueprint (``forms/rounds.py`` for ``web/rounds.py``, ...),
on the base in ``forms/base.py``."""

from __future__ import annotations

from .auth import LoginForm, RequestResetForm, SetPasswordForm
from .base import Form, IdListField, init_app, invalid

__all__ = ["Form", "IdListField", "LoginForm", "RequestResetForm", "SetPasswordForm", "init_app",
           "invalid"]
