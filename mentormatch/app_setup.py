"""Assembly of the Flask app: settings, extensions, blueprints, error pages, security headers."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g, render_template, request, session
from flask_login import current_user
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import IntegerConverter

from .config import ConfigError, load_settings
from .extensions import babel, csrf, db, limiter, login_manager
from .resources import resource_dir
from .urls import trusted_hosts

log = logging.getLogger(__name__)


def _select_locale() -> str:
    settings = _settings()
    locales = settings["app"]["locales"]
    chosen = session.get("locale")
    if chosen in locales:
        return chosen
    if current_user.is_authenticated and current_user.locale in locales:
        return current_user.locale
    if current_user.is_authenticated and current_user.person is not None:
        return current_user.person.locale
    return settings["app"]["default_locale"]


def _select_timezone() -> str:
    if current_user.is_authenticated and current_user.person is not None:
        return current_user.person.timezone
    return _settings()["app"]["default_timezone"]


def _settings() -> dict[str, Any]:
    from flask import current_app

    return current_app.config["MM"]


def build_app(overrides: dict[str, Any] | None = None) -> Flask:
    settings = load_settings(overrides=overrides)
    appcfg = settings["app"]
    # The instance folder holds the default SQLite database and the local outbox.
    instance = appcfg.get("instance_path") or None
    app = Flask(
        "mentormatch",
        template_folder=str(resource_dir("templates")),
        static_folder=str(Path(__file__).parent / "static"),
        instance_path=str(Path(instance).resolve()) if instance else None,
        instance_relative_config=True,
    )
    app.config["MM"] = settings

    secret = appcfg.get("secret_key")
    testing = bool(appcfg.get("testing"))
    if not secret:
        if appcfg.get("demo") or testing:
            secret = secrets.token_hex(32)
        else:
            raise ConfigError("MENTORMATCH_SECRET_KEY is not set (required outside the demo)")

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = appcfg.get("database_url") or f"sqlite:///{Path(app.instance_path) / 'mentormatch.db'}"
    app.config.update(
        SECRET_KEY=secret,
        TESTING=testing,
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(url),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(appcfg["session_cookie_secure"]),
        REMEMBER_COOKIE_SECURE=bool(appcfg["session_cookie_secure"]),
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None if testing else 3600 * 8,
        BABEL_DEFAULT_LOCALE=appcfg["default_locale"],
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        RATELIMIT_STORAGE_URI=appcfg["ratelimit_storage_uri"],
        RATELIMIT_KEY_PREFIX=appcfg.get("ratelimit_key_prefix", "mentormatch"),
        RATELIMIT_ENABLED=bool(appcfg.get("ratelimit_enabled", True)),
        MAX_CONTENT_LENGTH=int(appcfg.get("max_upload_mb", 20)) * 1024 * 1024,
        # Requests for any other host name are refused (400): links never come from the
        # request (see urls.external), and a forged Host: gets no page at all.
        TRUSTED_HOSTS=trusted_hosts(appcfg),
    )

    proxies = int(appcfg.get("proxy_count", 0))
    if proxies:
        # Behind a reverse proxy the client address (login throttling, audit) and the scheme
        # (secure cookies, external links) come from X-Forwarded-* set by that many proxies.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    db.init_app(app)
    if url.startswith("sqlite"):
        with app.app_context():
            _sqlite_pragmas(db.engine)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    from . import models  # noqa: F401  (complete metadata)
    from .web import register_blueprints
    from .web.templating import register_template_helpers

    @login_manager.user_loader
    def _load_user(user_id: str):
        from .models import User

        # "<id>:<session generation>": a session from before a logout, password change,
        # deactivation or role removal names an older generation and is not signed in.
        ident, sep, generation = str(user_id).partition(":")
        if not sep or not ident.isdigit() or not generation.isdigit():
            return None
        user = db.session.get(User, int(ident))
        if user is None or user.session_generation != int(generation) or not user.is_active:
            return None
        return user

    # <int:...> beyond what a database integer holds is "not found", never a 500 (PostgreSQL
    # refuses to compare an INTEGER column with 99999999999999999999).
    app.url_map.converters["int"] = _DbIntConverter
    register_blueprints(app)
    register_template_helpers(app)
    _register_errors(app)
    _register_security_headers(app)

    @app.before_request
    def _remember_locale() -> None:
        g.locale_choices = settings["app"]["locales"]

    return app


class _DbIntConverter(IntegerConverter):
    def __init__(self, url_map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


#: pages whose URL carries a secret (activation, reset, one-click answers, feeds)
_TOKEN_PATHS = ("/activate/", "/reset/", "/rsvp/", "/feed/")


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Several threads (the demo's scheduler) share the file; wait on locks instead of failing.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5}


def _sqlite_pragmas(engine) -> None:
    """WAL lets the demo's scheduler thread write while pages read, and makes each commit a
    cheap append (the outbox commits once per message to never send one twice)."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _register_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if isinstance(exc, SecurityError):  # a Host not in TRUSTED_HOSTS: no URL can be built
            return "Bad Request: unknown host name", 400, {"Content-Type": "text/plain"}
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return {"error": exc.name, "message": exc.description}, exc.code
        return render_template("errors/http.html", error=exc), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Never show a stack trace to a user; the log keeps it (without request bodies).
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if request.path.startswith("/api/"):
            return {"error": "Internal Server Error"}, 500
        return render_template("errors/500.html"), 500


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # personal pages and secret-bearing links must not stay in a shared browser's or a
        # proxy's cache (the back button after logout, a kiosk PC)
        if not request.path.startswith("/static/") and (
                request.path.startswith(_TOKEN_PATHS) or current_user.is_authenticated):
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'",
        )
        return response
