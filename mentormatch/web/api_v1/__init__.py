"""/api/v1: the REST API for HR systems (flask-smorest).

flask-smorest, not APIFlask: it is an extension of the plain Flask app we already have
(APIFlask replaces the Flask class itself), and its marshmallow schemas both validate the
input and generate the OpenAPI 3 description served at /api/v1/openapi.json. Human docs at
/api/v1/docs are rendered from that same description by our own template (no CDN scripts,
so the Content-Security-Policy stays strict).

Every call carries `Authorization: Bearer mm_<key>_<secret>` of a client an admin created;
each endpoint needs one scope. Calls are rate-limited per client, audited in `api_call`, and
exempt from CSRF (they never use the session cookie).
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import Flask, current_app, g, render_template, request
from flask_limiter.util import get_remote_address
from flask_smorest import Api, abort
from flask_smorest import Blueprint as ApiBlueprint

from ...extensions import csrf, limiter
from ...services import api_clients
from ...settings import settings
from ..transaction import committed, settle

api = Api()
PREFIX = "/api/v1"
bp = ApiBlueprint("api_v1", __name__, url_prefix=PREFIX,
                  description="REST API for HR systems (SIMPEG, SIASN exports).")


def _rate_key() -> str:
    header = request.headers.get("Authorization", "")
    key = api_clients.key_id_of(header[7:].strip()) if header[:7].lower() == "bearer " else None
    return f"api-client:{key}" if key else f"api-ip:{get_remote_address()}"


def _rate_limit() -> str:
    return settings().api.rate_limit


@bp.before_request
def _authenticate() -> None:
    g.api_client = None
    g.api_records = None
    header = request.headers.get("Authorization", "")
    if header[:7].lower() != "bearer ":
        abort(401, message="Missing bearer token (Authorization: Bearer mm_...).")
    client = api_clients.authenticate(header[7:].strip())
    if client is None:
        abort(401, message="Unknown, wrong or revoked API token.")
    g.api_client = client


@bp.after_request
def _audit(response):
    """Every call is logged, a refused one too: the call's own writes are settled first
    (committed on success, rolled back on an error answer), then the log row is committed on
    its own."""
    response = settle(response)
    client = getattr(g, "api_client", None)
    try:
        with committed():
            api_clients.record_call(client.id if client is not None else None, request.method,
                                    request.path, response.status_code, request.remote_addr,
                                    getattr(g, "api_records", None))
    except Exception:  # the audit must not turn an answer into a 500; the log keeps it
        current_app.logger.exception("could not record the API call")
    return response


def scope(name: str):
    """The endpoint needs this scope; documented as the operation's security requirement."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            client = g.api_client
            if name not in (client.scopes or []):
                abort(403, message=f"This API client lacks the scope {name}.")
            return view(*args, **kwargs)

        wrapper._api_scope = name  # type: ignore[attr-defined]
        return bp.doc(security=[{"bearerAuth": [name]}])(wrapper)

    return decorate


@bp.errorhandler(Exception)
def _api_error(exc: Exception):
    from werkzeug.exceptions import HTTPException, InternalServerError

    if not isinstance(exc, HTTPException):
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        exc = InternalServerError()
    return api.handle_http_exception(exc)


def init_api(app: Flask) -> None:
    app.config.update(
        API_TITLE="MentorMatch ASN API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": (
                "Push staff and pull programmes, pairs, sessions, confirmed logs, JP and "
                "dashboard figures. Authenticate with `Authorization: Bearer <token>` of an "
                "API client an administrator created (Admin → API clients, or "
                "`mentormatch api-client create`). Lists are paged (`page`, `per_page`) and "
                "carry an ETag: send it back in If-None-Match to get 304 when nothing changed."
            )},
            "servers": [{"url": "/"}],
        },
    )
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer",
                       "description": "mm_<key id>_<secret>, shown once at creation"})
    from . import views  # noqa: F401  (routes on bp)

    limiter.limit(_rate_limit, key_func=_rate_key)(bp)
    csrf.exempt(bp)
    api.register_blueprint(bp)
    app.add_url_rule(f"{PREFIX}/docs", "api_docs_page", _docs)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api_v1."):
            view._access = "api"  # type: ignore[union-attr]  # bearer token with the endpoint's scope
        elif endpoint.startswith("api-docs."):
            app.view_functions[endpoint] = _public(view)  # the OpenAPI description
    app.view_functions["api_docs_page"]._access = "public"  # type: ignore[union-attr]


def _public(view):
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        return view(*args, **kwargs)

    wrapper._access = "public"  # type: ignore[attr-defined]
    return wrapper


def _docs():
    spec = api.spec.to_dict()
    return render_template("api_v1/docs.html", spec=spec,
                           json_url=f"{PREFIX}/openapi.json")
