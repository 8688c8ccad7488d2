"""One commit path for requests: a POST (PUT, PATCH, DELETE) that succeeds commits once, at
its end; an error - an exception, a 4xx/5xx answer or a refusal shown with :func:`refuse` -
rolls everything back. GET requests never commit here (the few GET links that record an
answer commit explicitly). Views therefore do not commit or roll back themselves."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, flash, redirect, request, url_for

from ..extensions import db
from ..services.errors import ServiceError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSED = "mentormatch.refused"


def refused(exc: ServiceError, *, tell: bool = True) -> None:
    """Undo the request's writes and tell the user why (the page is the view's choice;
    ``tell=False`` when the page shows the message beside the form field instead)."""
    db.session.rollback()
    request.environ[REFUSED] = True  # per request (g may outlive it: tests keep one app context)
    if tell:
        flash(exc.user_message(), "error")


def refuse(exc: ServiceError, endpoint: str, **values: Any) -> Response:
    """Undo the request's writes, tell the user why, and go to ``endpoint``."""
    refused(exc)
    return redirect(url_for(endpoint, **values))  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit_once(response: Response) -> Response:
        if request.method in SAFE_METHODS:
            return response
        if response.status_code < 400 and not request.environ.get(REFUSED):
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def _rollback_on_error(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()
