"""Working hours (admin): the regular week and the dated overrides; add next Ramadan's hours."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from ..services import session_times, working_hours
from .access import requires

bp = Blueprint("working_hours", __name__, url_prefix="/admin/working-hours")


def _fmt(spans: dict[int, list[tuple[int, int]]], day: int) -> str:
    return ", ".join(f"{a // 60:02d}:{a % 60:02d}–{b // 60:02d}:{b % 60:02d}"
                     for a, b in spans.get(day, []))


@bp.get("")
@requires("hours.manage")
def index():
    regular = session_times.working_spans()
    rows = []
    for o in session_times.overrides():
        spans = session_times.working_spans(o["from"])
        rows.append({"name": o["name"], "from": o["from"], "to": o["to"],
                     "mon_thu": _fmt(spans, 0), "fri": _fmt(spans, 4),
                     "hours": session_times.weekly_minutes(spans) / 60})
    return render_template("admin/working_hours.html", regular_mon_thu=_fmt(regular, 0),
                           regular_fri=_fmt(regular, 4),
                           regular_hours=session_times.weekly_minutes(regular) / 60, rows=rows)


@bp.post("")
@requires("hours.manage")
def add():
    try:
        working_hours.add_override(current_user, {k: v[:20] for k, v in request.form.items()
                                                  if k != "csrf_token"} |
                                   {"name": request.form.get("name", "")[:100]})
    except working_hours.HoursError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_l("Working-hours override added."), "success")
    return redirect(url_for(".index"))
