"""Programme reports: an index of the coordinator's programmes, the dashboard with charts,
participation alerts (paginated, filtered by unit and city) with nudges, competency progress,
CSV/XLSX exports and a printable report. Only the programme's coordinators (and admins) see a
programme's reports; anyone else gets 404.

Stable URLs: `/reports/` (endpoint `reports.index`) lists the programmes; each programme's
reports start at `/programmes/<id>/reports/` (endpoint `reports.dashboard`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models import Programme
from ..services import exports, nudges, programmes, reports
from ..services.feedback import question_text, questions
from ..settings import settings
from .access import found, guard, requires
from .forms import invalid
from .forms.misc import NudgeForm

bp = Blueprint("reports", __name__)
PREFIX = "/programmes/<int:programme_id>/reports"


def _programme(programme_id: int) -> Programme:
    programme = found(db.session.get(Programme, programme_id))
    guard("reports.view", programme)
    return programme


def _chart_data(data: dict, progress: dict) -> dict:
    o = data["overall"]
    en = str(get_locale()) == "en"
    return {
        "sessions": {"labels": ["held", "missed", "upcoming", "cancelled", "awaiting"],
                     "values": [o["sessions_held"], o["sessions_missed"],
                                o["sessions_upcoming"], o["sessions_cancelled"],
                                o["sessions_awaiting"]]},
        "invites": {"values": [o["invites_accepted"], o["invites_declined"],
                               o["invites_unanswered"]]},
        "trend": data["trend"],
        "units": [{"label": r["label"], "matched_pct": r["matched_pct"] or 0,
                   "held_pct": r["held_pct"] or 0} for r in data["by"]["unit"]],
        "competencies": [{"label": r["name_en"] if en else r["name_id"], "base": r["avg_base"],
                          "now": r["avg_now"]} for r in progress["rows"]],
    }


def _question_texts() -> dict[str, str]:
    return {q.key: question_text(q, str(get_locale())) for q in questions()}


def _report_context(programme: Programme) -> dict:
    figures = reports.figures(programme)  # kept briefly, shared by the workers (see there)
    data, progress = figures["data"], figures["progress"]
    return {"programme": programme, "data": data, "progress": progress,
            "alerts": figures["alerts"],
            "charts": _chart_data(data, progress), "kinds": exports.KINDS}


@bp.get("/reports/")
@requires("programme.list")
def index():
    return render_template("reports/index.html",
                           programmes=programmes.for_user(current_user))


@bp.get(PREFIX + "/")
@requires()
def dashboard(programme_id: int):
    return render_template("reports/dashboard.html", **_report_context(_programme(programme_id)))


@bp.get(PREFIX + "/print")
@requires()
def printable(programme_id: int):
    programme = _programme(programme_id)
    return render_template("reports/print.html", **_report_context(programme),
                           evaluations=reports.evaluation_summary(programme),
                           question_text=_question_texts(), generated=datetime.now(UTC))


@bp.get(PREFIX + "/evaluations")
@requires()
def evaluations(programme_id: int):
    programme = _programme(programme_id)
    return render_template("reports/evaluations.html", programme=programme,
                           evaluations=reports.evaluation_summary(programme),
                           question_text=_question_texts())


@bp.get(PREFIX + "/competencies")
@requires()
def competencies(programme_id: int):
    programme = _programme(programme_id)
    return render_template("reports/competencies.html", programme=programme,
                           progress=reports.competency_progress(programme))


def _days() -> int:
    return 45 if request.values.get("days") == "45" else 30


def _filter(person_ids: list[int] | None = None) -> reports.AlertFilter:
    city = (request.values.get("city") or "").strip()[:100] or None
    return reports.AlertFilter(unit_id=request.values.get("unit", type=int), city=city,
                               person_ids=frozenset(person_ids) if person_ids else None)


def _kind(kind: str) -> str:
    if kind not in reports.ALERT_KINDS:
        abort(404)
    return kind


@bp.get(PREFIX + "/alerts/<kind>")
@requires()
def alerts(programme_id: int, kind: str):
    programme = _programme(programme_id)
    kind, days, flt = _kind(kind), _days(), _filter()
    page = reports.alert_page(programme, kind, days=days, flt=flt,
                              page=request.args.get("page", 1, type=int))
    args = {"days": days, "unit": flt.unit_id, "city": flt.city}
    return render_template("reports/alerts.html", programme=programme, kind=kind, days=days,
                           page=page, flt=flt, args={k: v for k, v in args.items() if v},
                           options=reports.filter_options(programme),
                           chase_days=reports.chase_after_days(),
                           tolerance=round(reports.report_settings().pace_tolerance * 100))


@bp.post(PREFIX + "/alerts/<kind>/nudge")
@requires()
def nudge(programme_id: int, kind: str):
    programme = _programme(programme_id)
    kind = _kind(kind)
    form = NudgeForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: alerts(programme_id, kind))
    days = 45 if form.days.data == "45" else 30
    flt = reports.AlertFilter(unit_id=form.unit.data, city=(form.city.data or "").strip() or None,
                              person_ids=frozenset(form.person_id.ids) or None)
    result = nudges.nudge(programme, kind, actor=current_user, days=days, flt=flt)
    if result.queued:
        flash(_("Reminders queued: %(queued)d; already reminded today: %(already)d.",
                queued=result.queued, already=result.already), "success")
    elif result.already:
        flash(_("Nothing queued: all %(already)d were already reminded today.",
                already=result.already), "warning")
    else:
        flash(_("Nobody to remind: the list has changed."), "warning")
    if result.remaining:
        flash(_("%(n)d more on this list were not reminded yet (at most %(limit)d per click): "
                "press the button again.", n=result.remaining,
                limit=reports.report_settings().nudge_limit), "warning")
    args: dict[str, Any] = {"days": days, "unit": flt.unit_id, "city": flt.city,
                            "page": form.page.data}
    return redirect(url_for(".alerts", programme_id=programme.id, kind=kind,
                            **{k: v for k, v in args.items() if v}))


@bp.get(PREFIX + "/export/<kind>.<fmt>")
@requires()
def export(programme_id: int, kind: str, fmt: str):
    programme = _programme(programme_id)
    if kind not in exports.KINDS or fmt not in exports.FORMATS:
        abort(404)
    machine = request.args.get("format") == "machine"  # the stable export for HR systems
    zone = (current_user.person.timezone if current_user.person and current_user.person.timezone
            else settings().app.default_timezone)
    body, mimetype = exports.export(programme, kind, fmt, str(get_locale()),
                                    audience="machine" if machine else "people", zone=zone)
    name = f"programme-{programme.id}-{kind}{'-machine' if machine else ''}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"',
               "Cache-Control": "no-store"}
    if not isinstance(body, bytes):  # CSV
        # streamed: rows are read from the database while the response is sent
        return Response(stream_with_context(body), mimetype=mimetype, headers=headers)
    return Response(body, mimetype=mimetype, headers=headers)
