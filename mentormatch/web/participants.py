"""Mentor and mentee homes, session logs (write, edit, confirm, dispute), session actions,
goals, feedback, evaluations and the certificate. Thin: a form (web/forms/participants.py)
reads the input, a service decides, the request commits once (web/transaction.py). A value
the form refuses shows the page again with the message beside its field; a service's
refusal is a `ParticipantError` whose `message()` is the translated text."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Attendee, Goal, Pair, Person, Programme, Session, SessionLog
from ..services import certificate as certificates
from ..services import feedback, goals, logbook
from ..services import participant_views as views
from ..services.access import allowed
from ..services.participant_errors import LogError, ParticipantError
from ..services.replies import apply_partstat
from .access import found, guard, requires
from .forms import invalid
from .forms.participants import (
    AnswerInviteForm,
    AnswerProposalForm,
    ConfirmLogForm,
    DisputeLogForm,
    EndPairForm,
    FeedbackForm,
    GoalForm,
    GoalStatusForm,
    LevelForm,
    LogForm,
    MarkSessionForm,
    ProposeTimeForm,
    evaluation_form,
)
from .labels import label
from .transaction import committed, refuse, refused

bp = Blueprint("participants", __name__)


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"pair_status": lambda status: label("pair", status, _("Unknown status")),
            "goal_status": lambda status: label("goal", status, _("Unknown status")),
            "focus_names": views.focus_names, "day": views.format_day,
            "role_label": views.role_label}


def _me() -> Person:
    person = current_user.person
    if person is None:
        abort(403)
    return person


# -- homes -------------------------------------------------------------------------------------

@bp.get("/mentor")
@requires("mentor.home")
def mentor_home():
    return render_template("participants/mentor_home.html", home=views.home(_me(), "mentor"))


@bp.get("/mentee")
@requires("mentee.home")
def mentee_home():
    return render_template("participants/mentee_home.html", home=views.home(_me(), "mentee"))


# -- invites (same service as calendar replies) ------------------------------------------------

@bp.post("/mentor/invites/<int:attendee_id>")
@requires("mentor.home")
def answer_invite(attendee_id: int):
    att = found(db.session.get(Attendee, attendee_id))
    guard("attendee.own", att)
    form = AnswerInviteForm()
    if not form.validate_on_submit():
        return invalid(form, mentor_home, key=attendee_id, status=400)
    # a refused answer is recorded as such: the redirect commits it like an applied one
    result = apply_partstat(att, form.answer.data, None, current_user, "web")
    if result.outcome == "applied":
        flash(_("Thank you, your answer was recorded."))
    else:
        flash(_("Your answer could not be recorded."), "error")
    return redirect(url_for(".mentor_home"))


# -- log forms ---------------------------------------------------------------------------------

def _log_form(pair: Pair, log: SessionLog | None, error: str | None = None) -> str:
    """The log form, empty, or as stored, or (after a refusal) as typed, with ``error`` above
    it and each field's message beside it."""
    me = _me()
    first, last = logbook.date_window(pair, me)
    posted = request.method == "POST"
    if posted:
        chosen = request.form.getlist("competency")
    else:
        chosen = [str(c.competency_id) for c in log.competencies] if log else []
    token = (request.form.get("submit_token") if posted else None) or secrets.token_urlsafe(24)
    sessions = views.loggable_sessions(pair, me, log)
    days = {s.id: logbook.session_day(s, me) for s in sessions}
    preset = request.args.get("session_id", type=int)
    held_on = log.held_on if log else days.get(preset or 0, last)
    return render_template(
        "participants/log_form.html", pair=pair, log=log, error=error, chosen=chosen,
        gaps=logbook.gap_rows(pair), sessions=sessions, session_days=days,
        form=request.form if posted else None, preset=preset, held_on=held_on,
        today=logbook.local_today(me), min_date=first, max_date=last, token=token,
        daily_limit=logbook.max_minutes_per_day())


def _log_refused(form: LogForm, exc: ParticipantError, page: Callable[[str | None], str]):
    """The form again with the refusal said once: beside the field it is about, else above."""
    refused(exc, tell=False)
    beside = form.show_refusal(exc, LogForm.FIELDS)
    return page(None if beside else exc.message()), 400


@bp.route("/pairs/<int:pair_id>/logs/new", methods=["GET", "POST"])
@requires("mentee.home")
def new_log(pair_id: int):
    pair = found(db.session.get(Pair, pair_id))
    guard("pair.view", pair)
    guard("pair.mentee", pair)
    form = LogForm()
    if not form.is_submitted():
        return _log_form(pair, None)
    if not form.validate():
        return invalid(form, lambda: _log_form(pair, None), status=400)  # beside each field
    try:
        with committed():  # here: a parallel double submit fails on this commit
            log, created = logbook.submit_log(pair, _me(), form.data_for_service(),
                                              actor=current_user)
    except ParticipantError as exc:
        return _log_refused(form, exc, lambda error: _log_form(pair, None, error))
    except IntegrityError:  # the same form committed a moment ago by a parallel request
        found_log = logbook.find_by_token(pair, form.submit_token.data)
        if found_log is None:
            return _log_form(pair, None, LogError("already_logged").message()), 400
        log, created = found_log, False
    flash(_("Session logged. Your mentor will confirm it.") if created
          else _("This session was already logged."))
    return redirect(url_for(".show_log", log_id=log.id))


def _log_and_pair(log_id: int) -> tuple[SessionLog, Pair]:
    log = found(db.session.get(SessionLog, log_id))
    guard("log.view", log)
    return log, db.session.get_one(Pair, log.pair_id)


@bp.route("/logs/<int:log_id>/edit", methods=["GET", "POST"])
@requires("mentee.home")
def edit_log(log_id: int):
    log, pair = _log_and_pair(log_id)
    guard("pair.mentee", pair)
    if log.status == "confirmed":
        flash(LogError("already_confirmed").message(), "error")
        return redirect(url_for(".show_log", log_id=log.id))
    form = LogForm()
    if not form.is_submitted():
        return _log_form(pair, log)
    if not form.validate():
        return invalid(form, lambda: _log_form(pair, log), status=400)  # beside each field
    try:
        logbook.update_log(log, _me(), form.data_for_service(), actor=current_user)
    except ParticipantError as exc:
        return _log_refused(form, exc, lambda error: _log_form(
            pair, db.session.get(SessionLog, log_id), error))
    flash(_("Log updated."))
    return redirect(url_for(".show_log", log_id=log.id))


@bp.get("/logs/<int:log_id>")
@requires()
def show_log(log_id: int):
    log, pair = _log_and_pair(log_id)
    return render_template("participants/log_show.html", log=log, pair=pair,
                           role=pair.member_role(current_user.person_id),
                           show_notes=logbook.notes_visible(current_user, log),
                           page=views.log_page(log, current_user.person),
                           off_day=logbook.off_day(log.held_on)
                           if logbook.off_day_rule(pair) == "confirm" else None)


@bp.post("/logs/<int:log_id>/confirm")
@requires("mentor.home")
def confirm_log(log_id: int):
    log, pair = _log_and_pair(log_id)
    guard("pair.mentor", pair)
    form = ConfirmLogForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: show_log(log_id))
    try:
        logbook.confirm_log(log, _me(), actor=current_user, off_day_ok=form.off_day_ok.data)
    except ParticipantError as exc:
        return refuse(exc, ".show_log", log_id=log_id)
    flash(_("Log confirmed. The time is credited as JP."))
    return redirect(url_for(".show_log", log_id=log_id))


@bp.post("/logs/<int:log_id>/dispute")
@requires("mentor.home")
def dispute_log(log_id: int):
    log, pair = _log_and_pair(log_id)
    guard("pair.mentor", pair)
    form = DisputeLogForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: show_log(log_id))
    try:
        logbook.dispute_log(log, _me(), form.comment.data or "", actor=current_user)
    except ParticipantError as exc:
        return refuse(exc, ".show_log", log_id=log_id)
    flash(_("Log disputed. The mentee can correct it."))
    return redirect(url_for(".show_log", log_id=log_id))


# -- session actions ---------------------------------------------------------------------------

def _session_and_pair(session_id: int) -> tuple[Session, Pair]:
    session = found(db.session.get(Session, session_id))
    pair = session.series.pair
    guard("pair.view", pair)
    return session, pair


@bp.post("/sessions/<int:session_id>/mark")
@requires("mentor.home")
def mark_session(session_id: int):
    session, pair = _session_and_pair(session_id)
    guard("pair.mentor", pair)
    form = MarkSessionForm()
    if not form.validate_on_submit():
        return invalid(form, mentor_home, key=session_id)
    try:
        logbook.mark_session(session, _me(), form.held.data, actor=current_user)
    except ParticipantError as exc:
        return refuse(exc, ".mentor_home")
    flash(_("Session marked."))
    return redirect(url_for(".mentor_home"))


@bp.post("/sessions/<int:session_id>/propose")
@requires("mentor.home")
def propose_time(session_id: int):
    session, pair = _session_and_pair(session_id)
    guard("pair.mentor", pair)
    form = ProposeTimeForm()
    if not form.validate_on_submit():
        return invalid(form, mentor_home, key=session_id)
    me = _me()
    try:
        logbook.propose_time(session, me, form.start_utc(me.timezone), actor=current_user)
    except ParticipantError as exc:
        return refuse(exc, ".mentor_home")
    flash(_("New time proposed. The mentee will be asked to confirm."))
    return redirect(url_for(".mentor_home"))


@bp.post("/sessions/<int:session_id>/proposal")
@requires("mentee.home")
def answer_proposal(session_id: int):
    session, pair = _session_and_pair(session_id)
    guard("pair.mentee", pair)
    form = AnswerProposalForm()
    if not form.validate_on_submit():
        return invalid(form, mentee_home, key=session_id)
    try:
        logbook.answer_proposal(session, _me(), form.accept.data, actor=current_user)
    except ParticipantError as exc:
        return refuse(exc, ".mentee_home")
    flash(_("Thank you, your answer was recorded."))
    return redirect(url_for(".mentee_home"))


# -- the pair page: plan, goals, level changes, evaluations, ending early ---------------------

def _member_pair(pair_id: int) -> Pair:
    pair = found(db.session.get(Pair, pair_id))
    guard("pair.view", pair)
    guard("pair.member", pair)
    return pair


@bp.get("/pairs/<int:pair_id>")
@requires()
def pair(pair_id: int):
    p = found(db.session.get(Pair, pair_id))
    guard("pair.view", p)
    role = p.member_role(current_user.person_id)
    return render_template("participants/pair.html", pair=p, role=role,
                           page=views.pair_page(p, current_user.person, role),
                           coordinator=role is None,
                           remaining=(views.remaining_sessions(p.id)
                                      if p.status in Pair.LIVE_STATES else 0))


@bp.post("/pairs/<int:pair_id>/goals")
@requires()
def add_goal(pair_id: int):
    p = _member_pair(pair_id)
    form = GoalForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: pair(pair_id))
    try:
        goals.add_goal(p, _me(), competency_id=form.competency_id.value,
                       description=form.description.data or "",
                       target_level=form.target_level.value, due_date=form.due_date.value,
                       actor=current_user)
    except ParticipantError as exc:
        return refuse(exc, ".pair", pair_id=pair_id)
    flash(_("Goal added."))
    return redirect(url_for(".pair", pair_id=pair_id))


@bp.post("/goals/<int:goal_id>/status")
@requires()
def goal_status(goal_id: int):
    goal = found(db.session.get(Goal, goal_id))
    p = _member_pair(goal.pair_id)
    form = GoalStatusForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: pair(p.id), key=goal_id)
    try:
        goals.set_goal_status(goal, _me(), form.status.data or "", actor=current_user)
    except ParticipantError as exc:
        return refuse(exc, ".pair", pair_id=p.id)
    return redirect(url_for(".pair", pair_id=p.id))


@bp.post("/pairs/<int:pair_id>/levels")
@requires()
def record_level(pair_id: int):
    p = _member_pair(pair_id)
    form = LevelForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: pair(pair_id))
    try:
        goals.record_level_change(p, _me(), competency_id=form.competency_id.value,
                                  new_level=form.new_level.value, note=form.note.data,
                                  actor=current_user)
    except ParticipantError as exc:
        return refuse(exc, ".pair", pair_id=pair_id)
    flash(_("Level change recorded."))
    return redirect(url_for(".pair", pair_id=pair_id))


@bp.post("/pairs/<int:pair_id>/end")
@requires()
def end_pair(pair_id: int):
    p = _member_pair(pair_id)
    form = EndPairForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: pair(pair_id))
    try:
        feedback.end_pair(p, _me(), form.reason.data or "", actor=current_user)
    except ParticipantError as exc:
        return refuse(exc, ".pair", pair_id=pair_id)
    flash(_("The pair was ended. The coordinator has been told."))
    return redirect(url_for(".pair", pair_id=pair_id))


@bp.route("/pairs/<int:pair_id>/evaluation/<stage>", methods=["GET", "POST"])
@requires()
def evaluation(pair_id: int, stage: str):
    p = _member_pair(pair_id)
    if stage not in feedback.STAGES:
        abort(404)
    me = _me()
    done = feedback.evaluations_of(p, me).get(stage)
    window = feedback.evaluation_windows(p, me)[stage]
    questions = feedback.questions()

    def page(error: str | None = None) -> str:
        return render_template("participants/evaluation.html", pair=p, stage=stage,
                               done=done, window=window, questions=questions, error=error,
                               text=feedback.question_text)

    form = evaluation_form(questions)
    if not form.is_submitted() or done is not None:
        return page()
    if not form.validate():
        return invalid(form, page, status=400)
    try:
        feedback.submit_evaluation(p, me, stage, form.answers(),  # type: ignore[attr-defined]
                                   actor=current_user)
    except ParticipantError as exc:
        refused(exc, tell=False)
        return page(exc.message()), 400
    flash(_("Thank you for your evaluation."))
    return redirect(url_for(".pair", pair_id=pair_id))


@bp.post("/logs/<int:log_id>/feedback")
@requires()
def give_feedback(log_id: int):
    log, p = _log_and_pair(log_id)
    guard("pair.member", p)
    form = FeedbackForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: show_log(log_id))
    try:
        feedback.give_feedback(log, _me(), form.rating.value, form.comment.data,
                               actor=current_user)
    except ParticipantError as exc:
        return refuse(exc, ".show_log", log_id=log_id)
    flash(_("Thank you for your feedback."))
    return redirect(url_for(".show_log", log_id=log_id))


# -- certificate -------------------------------------------------------------------------------

def _certificate_subject() -> tuple[Person, Programme | None]:
    """?person= (coordinators; default: me) and ?programme= (default: my only programme)."""
    person_id = request.args.get("person", type=int)
    person = found(db.session.get(Person, person_id) if person_id else current_user.person)
    programme_id = request.args.get("programme", type=int)
    if programme_id is None:
        if person.id != current_user.person_id:
            abort(404)
        mine = certificates.programmes_for(person)
        return person, (mine[0] if len(mine) == 1 else None)
    programme = found(db.session.get(Programme, programme_id))
    guard("certificate.view", (person, programme))
    return person, programme


def _build_certificate(person: Person, programme: Programme) -> certificates.Certificate:
    try:
        return certificates.build(person, programme)
    except ParticipantError:
        abort(404)  # the person takes no part in this programme


@bp.get("/certificate")
@requires()
def certificate():
    person, programme = _certificate_subject()
    if programme is None:
        return render_template("participants/certificate_index.html", person=person,
                               programmes=certificates.programmes_for(person))
    cert = _build_certificate(person, programme)
    preview = allowed(current_user, "certificate.preview", (person, programme))
    not_ready = None
    try:
        certificates.ensure_ready(cert, preview_allowed=preview)
    except ParticipantError as exc:
        not_ready = exc.message()
    return render_template("participants/certificate.html", cert=cert, not_ready=not_ready,
                           t=certificates.texts(cert), head=certificates.table_head(),
                           rows=certificates.table_rows(cert))


@bp.get("/certificate.pdf")
@requires()
def certificate_pdf():
    person, programme = _certificate_subject()
    if programme is None:
        return redirect(url_for(".certificate"))
    cert = _build_certificate(person, programme)
    try:
        certificates.ensure_ready(cert, preview_allowed=allowed(
            current_user, "certificate.preview", (person, programme)))
    except ParticipantError as exc:
        flash(exc.message(), "error")
        return redirect(url_for(".certificate", programme=programme.id, person=person.id))
    name = "".join(c if c.isascii() and c.isalnum() else "-" for c in person.name)
    name = name.strip("-")[:60] or "sertifikat"
    return Response(certificates.render_pdf(cert), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="mentoring-{name}-{programme.id}.pdf"',
        "Cache-Control": "private, no-store"})
