"""Working hours (admin): the regular week and the dated overrides; add next Ramadan's hours."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..services import session_times, working_hours
from .access import requires
from .forms import invalid
from .forms.admin import WorkingHoursForm
from .transaction import refuse

bp = Blueprint("working_hours", __name__, url_prefix="/admin/working-hours")


def _fmt(spans: dict[int, list[tuple[int, int]]], day: int) -> str:
    return ", ".join(f"{a // 60:02d}:{a % 60:02d}–{b // 60:02d}:{b % 60:02d}"
                     for a, b in spans.get(day, []))


@bp.get("")
@requires("hours.manage")
def index() -> str:
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
    form = WorkingHoursForm()
    if not form.validate_on_submit():
        return invalid(form, index)
    try:
        working_hours.add_override(current_user, form.values())
    except working_hours.HoursError as exc:
        return refuse(exc, ".index")
    flash(_l("Working-hours override added."), "success")
    return redirect(url_for(".index"))
