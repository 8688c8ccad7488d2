"""Template globals and filters: local-time formatting, competency names, nav per role."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask import Flask, g, request, url_for
from flask_babel import Domain, get_locale
from flask_login import current_user

from ..models import utcnow
from ..services.access import allowed, programme_roles
from ..services.timefmt import (
    format_day,
    format_local,
    format_month,
    minutes_to_hhmm,
    tz_abbrev,
    weekday_name,
)
from .labels import pair_reason, unmatched_reason


def register_template_helpers(app: Flask) -> None:
    def my_roles() -> set[str]:
        """The signed-in person's programme roles, looked up once per request."""
        if not current_user.is_authenticated:
            return set()
        if "_mm_roles" not in g:
            g._mm_roles = programme_roles(current_user)
        return g._mm_roles

    @app.context_processor
    def _globals() -> dict:
        return {
            "can": lambda action, obj=None: allowed(current_user, action, obj),
            "current_locale": str(get_locale()),
            "weekday_name": weekday_name,
            "my_roles": my_roles,
            "page_url": page_url,
            "now_utc": utcnow,
        }

    def page_url(n: int, param: str = "page") -> str:
        """The current page's URL with its filters kept and `page` (or `param`) set to n."""
        args = {**(request.view_args or {}), **request.args.to_dict(), param: n}
        return url_for(str(request.endpoint), **args)

    @app.template_filter("localtime")
    def _localtime(value: datetime | None, tz: str | None = None, fmt: str = "full") -> str:
        if value is None:
            return "-"
        zone = tz or (current_user.person.timezone if current_user.is_authenticated
                      and current_user.person else "Asia/Jakarta")
        return format_local(value, zone, str(get_locale()), fmt)

    app.add_template_filter(format_day, "day")
    app.add_template_filter(format_month, "month")

    @app.template_filter("number")
    def _number(value: float | int | None) -> str:
        """A number the way the viewer's language writes it: 92,5 and 767 (not 767.0) in
        Indonesian, 92.5 in English."""
        if value is None:
            return "–"
        return _decimal(value, str(get_locale() or "id"))

    _install_request_gettext(app)

    app.add_template_filter(minutes_to_hhmm, "hhmm")
    app.add_template_filter(lambda tz: tz_abbrev(tz), "tzabbr")
    app.jinja_env.globals["ZoneInfo"] = ZoneInfo
    app.jinja_env.globals["pair_reason"] = pair_reason
    app.jinja_env.globals["unmatched_reason"] = unmatched_reason


@lru_cache(maxsize=8192, typed=True)
def _decimal(value: float | int, locale: str) -> str:
    """Babel's formatting is slow next to rendering; a dashboard shows the same few hundred
    numbers to every coordinator (``typed``: 1 and 1.0 stay apart)."""
    return format_decimal(value, locale=locale)


class _RequestDomain(Domain):  # type: ignore[misc]
    """Pages call gettext a few hundred times (templates, reason texts, labels) and
    Flask-Babel looks up the request's locale, domain and catalogue on every call; this domain
    looks the catalogue up once per request and keeps it where Flask-Babel keeps per-request
    state (its ``refresh()`` and ``force_locale()`` clear or swap that slot, so a language
    switch still takes effect at once)."""

    def get_translations(self) -> Any:
        state = g.get("_flask_babel") if g else None
        if state is None:
            return super().get_translations()
        found = getattr(state, "babel_translations", None)
        if found is None:
            found = state.babel_translations = super().get_translations()
        return found


def _install_request_gettext(app: Flask) -> None:
    babel = app.extensions["babel"].instance
    if not isinstance(babel.__dict__.get("domain_instance"), _RequestDomain):
        babel.__dict__["domain_instance"] = _RequestDomain()  # replaces Babel's cached domain
