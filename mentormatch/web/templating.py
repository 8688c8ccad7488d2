"""Template globals and filters: local-time formatting, competency names, nav per role."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, has_request_context, session
from flask_babel import get_locale
from flask_login import current_user

from ..services.access import allowed
from ..services.timefmt import WEEKDAYS, format_local, minutes_to_hhmm, tz_abbrev


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict:
        return {
            "can": lambda action, obj=None: allowed(current_user, action, obj),
            "current_locale": str(get_locale()),
            "weekday_names": WEEKDAYS,
            "chosen_locale": session.get("locale") if has_request_context() else None,
        }

    @app.template_filter("localtime")
    def _localtime(value: datetime | None, tz: str | None = None, fmt: str = "full") -> str:
        if value is None:
            return "-"
        zone = tz or (current_user.person.timezone if current_user.is_authenticated
                      and current_user.person else "Asia/Jakarta")
        return format_local(value, zone, str(get_locale()), fmt)

    app.add_template_filter(minutes_to_hhmm, "hhmm")
    app.add_template_filter(lambda tz: tz_abbrev(tz), "tzabbr")
    app.jinja_env.globals["ZoneInfo"] = ZoneInfo
