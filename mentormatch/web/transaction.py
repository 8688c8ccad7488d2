"""One commit path for requests.

A request is one unit of work, ended by :func:`settle` when its answer is known: a POST (PUT,
PATCH, DELETE) that succeeds commits once; an error - an exception, a 4xx/5xx answer, or a
refusal shown with :func:`refused` / :func:`refuse` - rolls everything back, whatever the
method. A successful GET commits nothing. Views therefore never commit or roll back; a
service refuses by raising a :class:`~mentormatch.services.errors.ServiceError`.

The one exception is named: :func:`committed`, a block whose writes are committed when it
ends, used where the commit must happen at that point and not at the request's end:

- a GET that records something (the SSO sign-in callback);
- writes that stand whatever the answer is (a failed login's counter and lock; a refused
  calendar answer recorded with its 409/422; the error list of a 422 import preview; the
  API call log, written after an error answer's rollback);
- a commit that must happen inside a measured window (the password-reset answer time);
- a commit that is itself the check (a unique index deciding a racing double submit: the
  view catches the ``IntegrityError`` after the block has rolled back).

Streamed bodies are produced after the request's unit of work ended: they only read. The
API settles a call itself, first, and then logs it (``web/api_v1``); the app's error handlers
(``app_setup.py``) roll back before the error page or the retry of a read whose database
connection dropped.

Which layers commit: views never (this module does, for them); services never, except
where a service is its own unit of work outside a request - the outbox dispatch and its
sending state (``services/dispatch.py``), the scheduler lease (``services/lease.py``),
a solve's progress and result (``services/rounds.py``), the demo loader; jobs
(``jobs/``) commit each unit they run; the command line commits what a command does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, current_app, flash, redirect, request, url_for

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


@contextmanager
def committed() -> Iterator[None]:
    """Commit the request's writes when the block ends, here and not at the request's end
    (the cases are listed in this module's docstring). If the block or the commit fails,
    the writes are rolled back and the error goes on to the caller."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def settle(response: Response) -> Response:
    """End the request's unit of work by its answer (see the module docstring) and return the
    answer. A commit that fails is rolled back and answered as if the view had raised the
    error (the error handlers' page: a 500, a JSON error under /api)."""
    if response.status_code >= 400 or request.environ.get(REFUSED):
        db.session.rollback()
        return response
    if request.method in SAFE_METHODS:
        return response
    try:
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - handed to the error handlers, as from a view
        db.session.rollback()
        return current_app.make_response(current_app.handle_user_exception(exc))
    return response


def init_app(app: Flask) -> None:
    app.after_request(settle)

    @app.teardown_request
    def _rollback_on_error(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()
