"""Assembly of the Flask app: settings, extensions, blueprints, error pages, security headers."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, render_template, request, session
from flask_login import current_user
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import IntegerConverter

from .config import ConfigError, load_typed
from .extensions import babel, cache, csrf, db, limiter, login_manager
from .resources import resource_dir
from .settings import Settings, install, settings
from .urls import trusted_hosts

log = logging.getLogger(__name__)


def _select_locale() -> str:
    """The reader's language; outside a request (a job, the CLI) the default, unless the
    caller chose one with ``force_locale`` for the person it writes to."""
    app = settings().app
    if not has_request_context():
        return app.default_locale
    locales = app.locales
    chosen = session.get("locale")
    if chosen in locales:
        return chosen
    if current_user.is_authenticated and current_user.locale in locales:
        return current_user.locale
    if current_user.is_authenticated and current_user.person is not None:
        return current_user.person.locale
    return app.default_locale


def _select_timezone() -> str:
    if has_request_context() and current_user.is_authenticated and current_user.person is not None:
        return current_user.person.timezone
    return settings().app.default_timezone


def build_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """``config``: nested overrides of the loaded settings, or settings already loaded and
    validated (a solve worker process gets its scheduler's)."""
    typed = config if isinstance(config, Settings) else load_typed(overrides=config)
    appcfg = typed.app
    # The instance folder holds the default SQLite database and the local outbox.
    instance = appcfg.instance_path or None
    app = Flask(
        "mentormatch",
        template_folder=str(resource_dir("templates")),
        static_folder=str(Path(__file__).parent / "static"),
        instance_path=str(Path(instance).resolve()) if instance else None,
        instance_relative_config=True,
    )
    install(app, typed)

    secret = appcfg.secret_key
    testing = appcfg.testing
    if not secret:
        if appcfg.demo or testing:
            secret = secrets.token_hex(32)
        else:
            raise ConfigError("MENTORMATCH_SECRET_KEY is not set (required outside the demo)")

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _template_bytecode_cache(app)
    url = appcfg.database_url or f"sqlite:///{Path(app.instance_path) / 'mentormatch.db'}"
    app.config.update(
        SECRET_KEY=secret,
        TESTING=testing,
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(url),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=appcfg.session_cookie_secure,
        REMEMBER_COOKIE_SECURE=appcfg.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None if testing else 3600 * 8,
        BABEL_DEFAULT_LOCALE=appcfg.default_locale,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        RATELIMIT_STORAGE_URI=appcfg.ratelimit_storage_uri,
        RATELIMIT_KEY_PREFIX=appcfg.ratelimit_key_prefix,
        RATELIMIT_ENABLED=appcfg.ratelimit_enabled,
        MAX_CONTENT_LENGTH=appcfg.max_upload_mb * 1024 * 1024,
        # Requests for any other host name are refused (400): links never come from the
        # request (see urls.external), and a forged Host: gets no page at all.
        TRUSTED_HOSTS=trusted_hosts(appcfg.base_url, appcfg.trusted_hosts),
    )

    proxies = appcfg.proxy_count
    if proxies:
        # Behind a reverse proxy the client address (login throttling, audit) and the scheme
        # (secure cookies, external links) come from X-Forwarded-* set by that many proxies.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    db.init_app(app)
    if url.startswith("sqlite"):
        with app.app_context():
            _sqlite_pragmas(db.engine)
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app, config=_cache_config(appcfg, url))
    from .services.reports import cache as report_cache

    report_cache.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    from . import models  # noqa: F401  (complete metadata)
    from .web import register_blueprints
    from .web.templating import register_template_helpers

    @login_manager.user_loader
    def _load_user(user_id: str):
        from sqlalchemy.orm import joinedload

        from .models import User

        # "<id>:<session generation>": a session from before a logout, password change,
        # deactivation or role removal names an older generation and is not signed in.
        ident, sep, generation = str(user_id).partition(":")
        if not sep or not ident.isdigit() or not generation.isdigit():
            return None
        # one statement on every request: the person (joined by the model) and the roles
        user = db.session.get(User, int(ident), options=[joinedload(User.role_rows)])
        if user is None or user.session_generation != int(generation) or not user.is_active:
            return None
        return user

    # <int:...> beyond what a database integer holds is "not found", never a 500 (PostgreSQL
    # refuses to compare an INTEGER column with 99999999999999999999).
    app.url_map.converters["int"] = _DbIntConverter
    register_blueprints(app)
    from .web import transaction

    transaction.init_app(app)
    from . import worker
    from .jobs import solve_pool

    solve_pool.register(app, solve_pool.SolveWorker(worker.init_process, worker.solve_round))
    register_template_helpers(app)
    _register_errors(app)
    _register_security_headers(app)
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


def _template_bytecode_cache(app: Flask) -> None:
    """Compiled templates kept in the instance folder: each new worker process (five under
    `serve`, again after every restart) loads them instead of compiling every template anew,
    about 0.3 s of CPU per process. Jinja checks each entry against the template's source, so
    an edited template is compiled again."""
    from jinja2 import FileSystemBytecodeCache

    folder = Path(app.instance_path) / "template-cache"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only instance folder: templates are compiled in memory as before
        log.warning("template bytecode cache unavailable at %s", folder)
        return
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(folder))


def _cache_config(appcfg: Any, database_url: str) -> dict[str, Any]:
    """Flask-Caching settings: Redis when configured (or when login throttling already uses
    Redis, as `serve` with several workers must), else a store inside this process. Keys carry
    the deployment's prefix and a digest of the database URL, so deployments or test databases
    sharing one Redis never read each other's values."""
    uri = appcfg.cache_storage_uri.strip()
    if not uri:
        limits = appcfg.ratelimit_storage_uri
        uri = limits if limits.startswith(("redis://", "rediss://")) else "memory://"
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    config: dict[str, Any] = {"CACHE_KEY_PREFIX": f"{appcfg.ratelimit_key_prefix}:{digest}:",
                              "CACHE_DEFAULT_TIMEOUT": 60}
    if uri.startswith(("redis://", "rediss://")):
        return {**config, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": uri}
    if uri == "memory://":
        return {**config, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 1000}
    raise ConfigError(f"app.cache_storage_uri {uri!r}: use redis://host:port/db, memory:// "
                      "or leave it empty")


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
        if _dropped_connection(exc) and request.method in ("GET", "HEAD") \
                and not g.get("_mm_db_retried"):
            # The database connection died under a read-only request (a failover, a restart, a
            # killed backend): run it once more on a fresh connection instead of an error page.
            # Writes are never repeated blindly - they get the error page and change nothing.
            log.warning("database connection lost on %s %s; retrying once",
                        request.method, request.path)
            g._mm_db_retried = True
            db.session.rollback()
            g.pop("_login_user", None)
            try:
                rv = app.preprocess_request()
                return rv if rv is not None else app.dispatch_request()
            except HTTPException as again:
                return _http_error(again)
            except Exception as again:  # noqa: BLE001 - the ordinary error page below
                exc = again
        # Never show a stack trace to a user; the log keeps it (without request bodies).
        log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        db.session.rollback()
        if request.path.startswith("/api/"):
            return {"error": "Internal Server Error"}, 500
        return render_template("errors/500.html"), 500


def _dropped_connection(exc: BaseException) -> bool:
    """True for a database error that says the connection itself is gone (SQLAlchemy has
    invalidated it; the pool hands out fresh connections next)."""
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


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
