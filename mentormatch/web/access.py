"""The view-side access helper. Every view is wrapped by `login_required_view` or `public_view`
(a test walks the URL map to check), and object checks go through `guard`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from ..services.access import AccessDenied, ensure

F = TypeVar("F", bound=Callable[..., Any])


def guard(action: str, obj: Any = None) -> None:
    """Abort with 403 (or 404 where existence is private) unless the policy allows."""
    try:
        ensure(current_user._get_current_object(), action, obj)
    except AccessDenied as denied:
        abort(404 if denied.hide else 403)


def found(obj: Any) -> Any:
    if obj is None:
        abort(404)
    return obj


def requires(action: str | None = None) -> Callable[[F], F]:
    """Login required; with an action, also the role-level check (object checks use guard)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if action is not None:
                guard(action)
            return view(*args, **kwargs)

        protected = login_required(wrapper)
        protected._access = action or "login"  # type: ignore[attr-defined]
        return protected  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """Mark a view as deliberately open (login page, health check, signed links)."""
    view._access = "public"  # type: ignore[attr-defined]
    return view
