"""Calendar answers and feeds: one-click RSVP links, in-app buttons (the series or one session),
REPLY upload and API, the personal calendar page with its subscription feed. Thin: parse, call
services, render; the request commits (web/transaction.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy import select
from wtforms.validators import ValidationError

from .. import urls
from ..calendar import ItipError, RsvpTokenError, parse_itip, verify_rsvp
from ..extensions import csrf, db
from ..models import (
    Attendee,
    InboundMessage,
    Person,
    SessionSeries,
    utcnow,
)
from ..services import invites, my_calendar
from ..services.access import allowed
from ..services.replies import apply_partstat, apply_reply, describe, outcome_label
from .access import found, guard, public, requires
from .forms import invalid
from .forms.misc import ReplyUploadForm, SeriesAnswerForm
from .transaction import committed

bp = Blueprint("calendar", __name__)

MAX_UPLOAD = 1024 * 1024


def _token_attendee(token: str) -> tuple[Any, Attendee]:
    try:
        rsvp = verify_rsvp(current_app.config["SECRET_KEY"], token, utcnow())
    except RsvpTokenError as exc:
        abort(410 if exc.code == "expired" else 404)
    series = db.session.scalar(select(SessionSeries).where(SessionSeries.uid == rsvp.series_uid))
    att = None
    if series is not None:
        att = next((a for a in series.attendees if a.email == rsvp.attendee_email), None)
    if att is None:
        abort(404)
    return rsvp, att


def _answer_summary(row: Any) -> dict[str, Any] | None:
    """What an answer page shows: which series (pair, programme, sessions) and, per answered
    event, the whole series or which session, the answer and whether it was recorded."""
    if row is None or row.series_id is None:
        return None
    series = db.session.get(SessionSeries, row.series_id)
    if series is None:
        return None
    lines = []
    for ev in (row.details or {}).get("events", []):
        rid = datetime.fromisoformat(ev["rid"]) if ev.get("rid") else None
        lines.append({"rid": rid, "partstat": (ev.get("partstat") or "").upper(),
                      "applied": ev.get("outcome") == "applied"})
    return {"series": series, "pair": series.pair, "lines": lines,
            "count": len(series.sessions)}


@bp.get("/rsvp/<token>")
@public
def rsvp(token: str):
    """Show a confirm page only: mail scanners that follow links must not answer for people."""
    answer, att = _token_attendee(token)
    return render_template("calendar/rsvp_confirm.html", answer=answer, attendee=att,
                           pair=db.session.get_one(SessionSeries, att.series_id).pair)


@bp.post("/rsvp/<token>")
@public
def rsvp_apply(token: str):
    answer, att = _token_attendee(token)
    # single use: a link forwarded or found in a mailbox later cannot answer again
    ref = "rsvp:" + hashlib.sha256(token.encode()).hexdigest()[:40]
    used = db.session.scalar(select(InboundMessage).where(
        InboundMessage.source == "link", InboundMessage.mailbox_ref == ref,
        InboundMessage.outcome == "applied").limit(1))
    if used is not None:
        return render_template("calendar/rsvp_done.html", row=None, answer=answer,
                               attendee=att,
                               reason=_("This link was already used.")), 410
    with committed():  # a refused answer is recorded as such, though the answer is a 409
        row = apply_partstat(att, answer.partstat, answer.recurrence_id, None, "link",
                             sequence=answer.sequence)
        row.mailbox_ref = ref
    return render_template("calendar/rsvp_done.html", row=row, answer=answer, attendee=att,
                           reason=describe(row), summary=_answer_summary(row),
                           tz=att.person.timezone if att.person else None), (
        200 if row.outcome == "applied" else 409)


@bp.post("/calendar/series/<int:series_id>/answer")
@requires()
def answer(series_id: int):
    """In-app Accept / Decline for the logged-in attendee: the whole series, or one session
    (``recurrence_id``) - the same service as a calendar REPLY."""
    series = found(db.session.get(SessionSeries, series_id))
    guard("series.attend", series)
    att = next(a for a in series.attendees if a.person_id == current_user.person_id)
    form = SeriesAnswerForm()
    if not form.validate_on_submit():
        return invalid(form, feed_page, key=series_id, status=400)
    # a refused answer is recorded as such: the redirect commits it like an applied one
    row = apply_partstat(att, form.answer(), form.occurrence(), current_user, "app")
    if row.outcome == "applied":
        flash(_("Your answer was recorded."), "success")
    else:
        flash(_("Your answer could not be recorded: %(reason)s", reason=describe(row)), "error")
    return redirect(urls.safe_next(form.next.data, url_for("calendar.feed_page")))


def _series_of(raw: bytes) -> SessionSeries | None:
    try:
        uid = parse_itip(raw).uid
    except ItipError:
        return None
    return db.session.scalar(select(SessionSeries).where(SessionSeries.uid == uid))


def _may_see(series: SessionSeries) -> bool:
    return allowed(current_user, "series.view", series)


def _apply_upload(raw: bytes, source: str) -> InboundMessage | None:
    """None when the reply belongs to a series the user neither coordinates nor attends.
    Whom the user may answer for is the service's decision (staff: anyone, on behalf;
    participants: themselves only)."""
    series = _series_of(raw)
    if series is not None and not _may_see(series):
        return None
    with committed():  # a rejected reply is recorded as such, though the API answers 422
        return apply_reply(raw, source=source, actor=current_user)


@bp.route("/calendar/reply", methods=["GET", "POST"])
@requires()
def upload():
    """Upload a REPLY (.ics or the whole .eml): a coordinator for anyone in their programmes
    (recorded as on behalf of the attendee), a mentor or mentee for themselves."""
    row = None
    form = ReplyUploadForm()
    if form.is_submitted():
        if not form.validate():
            return invalid(form, lambda: _upload_page(None))
        raw = form.file.data.read(MAX_UPLOAD + 1)
        if not raw:
            form.file.errors = [_("Choose a .ics or .eml file.")]
            return invalid(form, lambda: _upload_page(None))
        if len(raw) > MAX_UPLOAD:
            form.file.errors = [_("The file is too large.")]
            return invalid(form, lambda: _upload_page(None))
        row = _apply_upload(raw, "upload")
        if row is None:
            abort(404)
    return _upload_page(row)


def _upload_page(row: InboundMessage | None) -> str:
    me = current_user.person
    return render_template("calendar/upload.html", row=row,
                           outcome=outcome_label(row) if row else "",
                           reason=describe(row) if row else "", summary=_answer_summary(row),
                           tz=me.timezone if me else None)


def _api_auth(action: str | None):
    """JSON answers (401) instead of a login redirect."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return jsonify(error="unauthenticated", message=_("Log in first.")), 401
            return view(*args, **kwargs)

        wrapper._access = action or "login"  # type: ignore[attr-defined]
        return wrapper

    return decorate


@bp.post("/api/itip/reply")
@csrf.exempt
@_api_auth(None)
def api_reply():
    """POST the raw REPLY (.ics or .eml) as the request body, with the CSRF token of a
    MentorMatch page in ``X-CSRFToken`` (a cookie alone must not let another site answer for
    the signed-in user); a foreign ``Origin`` is refused."""
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).hostname not in (
            current_app.config.get("TRUSTED_HOSTS") or ()):
        return jsonify(error="origin", message=_("Requests from other sites are refused.")), 403
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError:
        return jsonify(error="csrf", message=_("Send the CSRF token of a MentorMatch page in "
                                               "the X-CSRFToken header.")), 403
    raw = request.get_data(cache=False)
    if not raw:
        return jsonify(error="empty", message=_("Send the .ics or .eml as the request body.")), 400
    if len(raw) > MAX_UPLOAD:
        return jsonify(error="too_large", message=_("The file is too large.")), 413
    row = _apply_upload(raw, "api")
    if row is None:
        return jsonify(error="not_found", message=_("No such series.")), 404
    body = {"id": row.id, "outcome": row.outcome, "reason_code": row.reason_code,
            "message": describe(row), "uid": row.uid}
    if row.outcome == "rejected":
        return jsonify(error="rejected", **body), 422
    return jsonify(body), 200


@bp.get("/feed/<token>.ics")
@public
def feed(token: str):
    if not token or len(token) < 20:
        abort(404)
    person = db.session.scalar(select(Person).where(Person.feed_token == token))
    if person is None or not person.active:
        abort(404)
    resp = Response(invites.feed_for(person), mimetype="text/calendar")
    resp.headers["Content-Type"] = "text/calendar; charset=utf-8"
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp


@bp.get("/calendar/feed")
@requires()
def feed_page():
    """My calendar: the private subscription address (once created with the button), my
    invitations and each session still to come, answerable one by one."""
    person = found(current_user.person)
    guard("person.own", person)
    url = urls.external("calendar.feed", token=person.feed_token) if person.feed_token else None
    return render_template("calendar/feed.html", url=url, person=person,
                           items=my_calendar.items(person))


@bp.post("/calendar/feed/rotate")
@requires()
def rotate_feed():
    """Create my secret calendar address, or renew it: the old one stops working at once
    (revocation)."""
    person = found(current_user.person)
    guard("person.own", person)
    if my_calendar.renew_feed_address(person):
        flash(_("Your calendar address was renewed; the old one no longer works."), "success")
    else:
        flash(_("Your calendar address was created."), "success")
    return redirect(url_for("calendar.feed_page"))
