"""Programme reports: dashboard with charts, participation alerts with nudges, competency progress,
CSV/XLSX exports and a printable report. Only the programme's coordinators (and admins) see them;
anyone else gets 404."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..models import Programme
from ..services import exports, reports
from .access import found, guard, requires

bp = Blueprint("reports", __name__, url_prefix="/programmes/<int:programme_id>/reports")


def _programme(programme_id: int) -> Programme:
    programme = found(db.session.get(Programme, programme_id))
    guard("reports.view", programme)
    return programme


def _chart_data(data: dict, progress: dict) -> dict:
    o = data["overall"]
    return {
        "sessions": {"labels": ["held", "missed", "cancelled", "scheduled"],
                     "values": [o["sessions_held"], o["sessions_missed"],
                                o["sessions_cancelled"], o["sessions_scheduled"]]},
        "invites": {"values": [o["invites_accepted"], o["invites_declined"],
                               o["invites_unanswered"]]},
        "trend": data["trend"],
        "units": [{"label": r["label"], "matched_pct": r["matched_pct"] or 0,
                   "held_pct": r["held_pct"] or 0} for r in data["by"]["unit"]],
        "competencies": [{"label": r["code"], "base": r["avg_base"], "now": r["avg_now"]}
                         for r in progress["rows"]],
    }


@bp.get("/")
@requires()
def dashboard(programme_id: int):
    programme = _programme(programme_id)
    data = reports.dashboard(programme)
    progress = reports.competency_progress(programme)
    return render_template(
        "reports/dashboard.html", programme=programme, data=data, progress=progress,
        alerts=reports.alerts_summary(programme), charts=_chart_data(data, progress),
        kinds=exports.KINDS,
    )


@bp.get("/print")
@requires()
def printable(programme_id: int):
    programme = _programme(programme_id)
    data = reports.dashboard(programme)
    progress = reports.competency_progress(programme)
    return render_template(
        "reports/print.html", programme=programme, data=data, progress=progress,
        alerts=reports.alerts_summary(programme), charts=_chart_data(data, progress),
        generated=datetime.now(UTC),
    )


@bp.get("/competencies")
@requires()
def competencies(programme_id: int):
    programme = _programme(programme_id)
    return render_template("reports/competencies.html", programme=programme,
                           progress=reports.competency_progress(programme))


def _days() -> int:
    return 45 if request.values.get("days") == "45" else 30


@bp.get("/alerts/<kind>")
@requires()
def alerts(programme_id: int, kind: str):
    programme = _programme(programme_id)
    if kind not in reports.ALERT_KINDS:
        abort(404)
    days = _days()
    return render_template("reports/alerts.html", programme=programme, kind=kind, days=days,
                           rows=reports.alert_rows(programme, kind, days=days))


@bp.post("/alerts/<kind>/nudge")
@requires()
def nudge(programme_id: int, kind: str):
    programme = _programme(programme_id)
    if kind not in reports.ALERT_KINDS:
        abort(404)
    days = _days()
    ids = [int(v) for v in request.form.getlist("person_id") if v.isdigit()]
    sent = sum(reports.nudge(programme, kind, pid, days=days) for pid in ids)
    db.session.commit()
    if sent:
        flash(_("Reminder queued for %(n)d person(s).", n=sent), "success")
    else:
        flash(_("Nobody to remind: the list has changed."), "warning")
    return redirect(url_for(".alerts", programme_id=programme.id, kind=kind, days=days))


@bp.get("/export/<kind>.<fmt>")
@requires()
def export(programme_id: int, kind: str, fmt: str):
    programme = _programme(programme_id)
    if kind not in exports.KINDS or fmt not in exports.FORMATS:
        abort(404)
    body, mimetype = exports.export(programme, kind, fmt)
    name = f"programme-{programme.id}-{kind}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"',
               "Cache-Control": "no-store"}
    if fmt == "csv":
        # materialise inside the request: the session lives in this app context
        return Response("".join(body), mimetype=mimetype, headers=headers)
    return Response(body, mimetype=mimetype, headers=headers)
