"""Mentor and mentee homes, session logs (write, edit, confirm, dispute), session actions,
goals, feedback, evaluations and the certificate. Thin: parse, call a service, commit once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Attendee, Pair, Session, SessionLog, SessionSeries, utcnow
from ..services import logbook
from ..services.logbook import ActionInput, LogError, LogInput
from .access import found, guard, requires

bp = Blueprint("participants", __name__)

LIVE_PAIR = ("invited", "active")


def _messages() -> dict[str, str]:
    return {
        "pair_inactive": _("This pair is not active."),
        "duration_too_short": _("The duration must be at least 1 minute."),
        "duration_too_long": _("The duration can be at most 600 minutes."),
        "future_date": _("The date cannot be in the future."),
        "too_old": _("The date is too far in the past."),
        "topics_required": _("Please write the topics discussed."),
        "too_long": _("The text is too long."),
        "bad_competency": _("Choose competencies from the list."),
        "bad_action_item": _("Each action item needs a short text."),
        "bad_session": _("That session does not belong to this pair."),
        "session_not_held": _("A cancelled or not-held session cannot be logged."),
        "already_logged": _("That session already has a log."),
        "not_mentee": _("Only the mentee of this pair can do this."),
        "not_mentor": _("Only the mentor of this pair can do this."),
        "not_author": _("Only the author can edit this log."),
        "already_confirmed": _("This log is already confirmed."),
        "comment_required": _("Please say what is wrong in a comment."),
        "session_cancelled": _("The session was cancelled."),
        "session_in_future": _("The session has not started yet."),
        "session_not_scheduled": _("Only a scheduled session can be moved."),
        "bad_time": _("Please give a valid date and time."),
        "time_in_past": _("The new time must be in the future."),
        "no_proposal": _("There is no proposed time to answer."),
        "bad_number": _("Please enter a whole number."),
        "bad_date": _("Please give a valid date."),
    }


def _error(exc: LogError) -> str:
    return _messages().get(exc.code, exc.code)


def _me():
    person = current_user.person
    if person is None:
        abort(403)
    return person


def _pairs(role: str) -> list[Pair]:
    col = Pair.mentor_id if role == "mentor" else Pair.mentee_id
    return list(db.session.scalars(
        select(Pair).where(col == current_user.person_id,
                           Pair.status.in_(("invited", "active", "completed", "ended")))
        .order_by(Pair.status, Pair.id)))


def _upcoming(pair_ids: list[int], limit: int = 10) -> list[Session]:
    if not pair_ids:
        return []
    return list(db.session.scalars(
        select(Session).join(SessionSeries)
        .where(SessionSeries.pair_id.in_(pair_ids), Session.status == "scheduled",
               Session.end_at >= utcnow())
        .order_by(Session.start_at).limit(limit)))


def _to_mark(pair_ids: list[int]) -> list[Session]:
    """Past sessions still 'scheduled': the mentor says held or not held."""
    if not pair_ids:
        return []
    return list(db.session.scalars(
        select(Session).join(SessionSeries)
        .where(SessionSeries.pair_id.in_(pair_ids), Session.status.in_(("scheduled", "missed")),
               Session.start_at < utcnow())
        .order_by(Session.start_at.desc()).limit(10)))


def _logs(pair_ids: list[int]) -> list[SessionLog]:
    if not pair_ids:
        return []
    return list(db.session.scalars(
        select(SessionLog).where(SessionLog.pair_id.in_(pair_ids))
        .order_by(SessionLog.held_on.desc(), SessionLog.id.desc()).limit(50)))


# -- homes -------------------------------------------------------------------------------------

@bp.get("/mentor")
@requires("mentor.home")
def mentor_home():
    pairs = _pairs("mentor")
    ids = [p.id for p in pairs]
    invites = [(row[0], row[1]) for row in db.session.execute(
        select(Attendee, SessionSeries).join(SessionSeries)
        .where(Attendee.person_id == current_user.person_id, Attendee.role == "mentor",
               Attendee.partstat.in_(("NEEDS-ACTION", "TENTATIVE")),
               SessionSeries.status == "active"))]
    logs = _logs(ids)
    return render_template(
        "participants/mentor_home.html", pairs=pairs, upcoming=_upcoming(ids),
        to_mark=_to_mark(ids), invites=invites,
        pending=[log for log in logs if log.status == "submitted"], logs=logs,
        jp=logbook.jp_summary(current_user.person_id), pair_by_id={p.id: p for p in pairs})


@bp.get("/mentee")
@requires("mentee.home")
def mentee_home():
    pairs = _pairs("mentee")
    ids = [p.id for p in pairs]
    upcoming = _upcoming(ids)
    return render_template(
        "participants/mentee_home.html", pairs=pairs, upcoming=upcoming,
        proposals=[s for s in upcoming if s.proposed_start is not None], logs=_logs(ids),
        jp=logbook.jp_summary(current_user.person_id), pair_by_id={p.id: p for p in pairs})


# -- invites (same service as calendar replies) ------------------------------------------------

@bp.post("/mentor/invites/<int:attendee_id>")
@requires("mentor.home")
def answer_invite(attendee_id: int):
    from ..services.replies import apply_partstat

    att = found(db.session.get(Attendee, attendee_id))
    if att.person_id != current_user.person_id:
        abort(404)
    answer = request.form.get("answer", "")
    if answer not in ("ACCEPTED", "DECLINED"):
        abort(400)
    result = apply_partstat(att, answer, None, current_user, "web")
    db.session.commit()
    if result.outcome == "applied":
        flash(_("Thank you, your answer was recorded."))
    else:
        flash(_("Your answer could not be recorded."), "error")
    return redirect(url_for(".mentor_home"))


# -- log forms ---------------------------------------------------------------------------------

def _int(value: str | None, code: str = "bad_number") -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        raise LogError(code) from None


def _date(value: str | None, *, required: bool = True) -> date | None:
    value = (value or "").strip()
    if not value and not required:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise LogError("bad_date") from None


def _parse_log(form: Any) -> LogInput:
    items = []
    texts, dues = form.getlist("action_text"), form.getlist("action_due")
    for i, text in enumerate(texts):
        due = dues[i] if i < len(dues) else ""
        if text.strip() or due.strip():
            items.append(ActionInput(text, _date(due, required=False)))
    session_id = form.get("session_id") or None
    return LogInput(
        held_on=_date(form.get("held_on")),
        duration_minutes=_int(form.get("duration_minutes")),
        topics=form.get("topics", ""),
        notes=form.get("notes"),
        notes_visible_to_coordinator=form.get("notes_visible") == "1",
        competency_ids=[_int(c, "bad_competency") for c in form.getlist("competency")],
        action_items=items,
        session_id=_int(session_id, "bad_session") if session_id else None,
    )


def _log_form(pair: Pair, log: SessionLog | None, error: str | None, status: int = 200):
    sessions = [s for s in db.session.scalars(
        select(Session).join(SessionSeries)
        .where(SessionSeries.pair_id == pair.id, Session.start_at <= utcnow(),
               Session.status.in_(("scheduled", "held", "missed")))
        .order_by(Session.start_at.desc()).limit(20))]
    if request.method == "POST":
        chosen = request.form.getlist("competency")
    else:
        chosen = [str(c.competency_id) for c in log.competencies] if log else []
    return render_template("participants/log_form.html", pair=pair, log=log, error=error,
                           chosen=chosen,
                           gaps=logbook.gap_rows(pair), sessions=sessions,
                           form=request.form if request.method == "POST" else None,
                           preset=request.args.get("session_id", type=int),
                           today=utcnow().date()), status


@bp.route("/pairs/<int:pair_id>/logs/new", methods=["GET", "POST"])
@requires("mentee.home")
def new_log(pair_id: int):
    pair = found(db.session.get(Pair, pair_id))
    guard("pair.view", pair)
    guard("pair.mentee", pair)
    if request.method == "GET":
        return _log_form(pair, None, None)
    try:
        log, created = logbook.submit_log(pair, _me(), _parse_log(request.form),
                                          actor=current_user)
    except LogError as exc:
        db.session.rollback()
        return _log_form(pair, None, _error(exc), 400)
    db.session.commit()
    flash(_("Session logged. Your mentor will confirm it.") if created
          else _("This session was already logged."))
    return redirect(url_for(".show_log", log_id=log.id))


def _log_and_pair(log_id: int) -> tuple[SessionLog, Pair]:
    log = found(db.session.get(SessionLog, log_id))
    guard("log.view", log)
    return log, db.session.get(Pair, log.pair_id)


@bp.route("/logs/<int:log_id>/edit", methods=["GET", "POST"])
@requires("mentee.home")
def edit_log(log_id: int):
    log, pair = _log_and_pair(log_id)
    guard("pair.mentee", pair)
    if log.status == "confirmed":
        flash(_("This log is already confirmed."), "error")
        return redirect(url_for(".show_log", log_id=log.id))
    if request.method == "GET":
        return _log_form(pair, log, None)
    try:
        logbook.update_log(log, _me(), _parse_log(request.form), actor=current_user)
    except LogError as exc:
        db.session.rollback()
        return _log_form(pair, db.session.get(SessionLog, log_id), _error(exc), 400)
    db.session.commit()
    flash(_("Log updated."))
    return redirect(url_for(".show_log", log_id=log.id))


@bp.get("/logs/<int:log_id>")
@requires()
def show_log(log_id: int):
    log, pair = _log_and_pair(log_id)
    from ..models import Feedback

    feedback = list(db.session.scalars(select(Feedback).where(Feedback.log_id == log.id)))
    return render_template("participants/log_show.html", log=log, pair=pair,
                           role=pair.member_role(current_user.person_id),
                           show_notes=logbook.notes_visible(current_user, log),
                           feedback=feedback,
                           my_feedback=next((fb for fb in feedback
                                             if fb.author_id == current_user.person_id), None))


@bp.post("/logs/<int:log_id>/confirm")
@requires("mentor.home")
def confirm_log(log_id: int):
    log, pair = _log_and_pair(log_id)
    guard("pair.mentor", pair)
    try:
        logbook.confirm_log(log, _me(), actor=current_user)
    except LogError as exc:
        db.session.rollback()
        flash(_error(exc), "error")
        return redirect(url_for(".show_log", log_id=log_id))
    db.session.commit()
    flash(_("Log confirmed. The time is credited as JP."))
    return redirect(url_for(".show_log", log_id=log_id))


@bp.post("/logs/<int:log_id>/dispute")
@requires("mentor.home")
def dispute_log(log_id: int):
    log, pair = _log_and_pair(log_id)
    guard("pair.mentor", pair)
    try:
        logbook.dispute_log(log, _me(), request.form.get("comment", ""), actor=current_user)
    except LogError as exc:
        db.session.rollback()
        flash(_error(exc), "error")
        return redirect(url_for(".show_log", log_id=log_id))
    db.session.commit()
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
    try:
        logbook.mark_session(session, _me(), request.form.get("held") == "1", actor=current_user)
    except LogError as exc:
        db.session.rollback()
        flash(_error(exc), "error")
        return redirect(url_for(".mentor_home"))
    db.session.commit()
    flash(_("Session marked."))
    return redirect(url_for(".mentor_home"))


@bp.post("/sessions/<int:session_id>/propose")
@requires("mentor.home")
def propose_time(session_id: int):
    session, pair = _session_and_pair(session_id)
    guard("pair.mentor", pair)
    try:
        raw = (request.form.get("new_start") or "").strip()
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            raise LogError("bad_time") from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=ZoneInfo(current_user.person.timezone))
        logbook.propose_time(session, _me(), local.astimezone(UTC), actor=current_user)
    except LogError as exc:
        db.session.rollback()
        flash(_error(exc), "error")
        return redirect(url_for(".mentor_home"))
    db.session.commit()
    flash(_("New time proposed. The mentee will be asked to confirm."))
    return redirect(url_for(".mentor_home"))


@bp.post("/sessions/<int:session_id>/proposal")
@requires("mentee.home")
def answer_proposal(session_id: int):
    session, pair = _session_and_pair(session_id)
    guard("pair.mentee", pair)
    try:
        logbook.answer_proposal(session, _me(), request.form.get("accept") == "1",
                                actor=current_user)
    except (LogError, ValueError) as exc:
        db.session.rollback()
        flash(_error(exc) if isinstance(exc, LogError) else str(exc), "error")
        return redirect(url_for(".mentee_home"))
    db.session.commit()
    flash(_("Thank you, your answer was recorded."))
    return redirect(url_for(".mentee_home"))


# -- the pair page: plan, goals, level changes, evaluations, ending early ---------------------

def _extra_messages() -> dict[str, str]:
    return {
        "not_member": _("Only the mentor or mentee of this pair can do this."),
        "bad_level": _("Levels go from 1 to 5."),
        "description_required": _("Please describe the goal."),
        "bad_status": _("Unknown status."),
        "bad_rating": _("Choose a rating from 1 to 5."),
        "bad_stage": _("Unknown evaluation stage."),
        "answer_all": _("Please answer every question with 1 to 5."),
        "reason_required": _("Please give a reason."),
    }


def _err(exc: LogError) -> str:
    return _extra_messages().get(exc.code) or _error(exc)


def _member_pair(pair_id: int) -> Pair:
    pair = found(db.session.get(Pair, pair_id))
    guard("pair.view", pair)
    guard("pair.member", pair)
    return pair


@bp.get("/pairs/<int:pair_id>")
@requires()
def pair(pair_id: int):
    from ..services import feedback, goals
    from ..services.catalogue import all_competencies

    p = found(db.session.get(Pair, pair_id))
    guard("pair.view", p)
    role = p.member_role(current_user.person_id)
    logs = logbook.logs_for_pair(p)
    return render_template(
        "participants/pair.html", pair=p, role=role, progress=goals.progress(p),
        changes=goals.level_changes(p), logs=logs, competencies=all_competencies(),
        gaps=logbook.gap_rows(p),
        evaluations=feedback.evaluations_of(p, current_user.person) if role else {},
        today=utcnow().date())


@bp.post("/pairs/<int:pair_id>/goals")
@requires()
def add_goal(pair_id: int):
    from ..services import goals

    p = _member_pair(pair_id)
    try:
        goals.add_goal(p, _me(), competency_id=_int(request.form.get("competency_id"),
                                                     "bad_competency"),
                       description=request.form.get("description", ""),
                       target_level=_int(request.form.get("target_level"), "bad_level"),
                       due_date=_date(request.form.get("due_date"), required=False),
                       actor=current_user)
    except LogError as exc:
        db.session.rollback()
        flash(_err(exc), "error")
        return redirect(url_for(".pair", pair_id=pair_id))
    db.session.commit()
    flash(_("Goal added."))
    return redirect(url_for(".pair", pair_id=pair_id))


@bp.post("/goals/<int:goal_id>/status")
@requires()
def goal_status(goal_id: int):
    from ..models import Goal
    from ..services import goals

    goal = found(db.session.get(Goal, goal_id))
    p = _member_pair(goal.pair_id)
    try:
        goals.set_goal_status(goal, _me(), request.form.get("status", ""), actor=current_user)
    except LogError as exc:
        db.session.rollback()
        flash(_err(exc), "error")
        return redirect(url_for(".pair", pair_id=p.id))
    db.session.commit()
    return redirect(url_for(".pair", pair_id=p.id))


@bp.post("/pairs/<int:pair_id>/levels")
@requires()
def record_level(pair_id: int):
    from ..services import goals

    p = _member_pair(pair_id)
    try:
        goals.record_level_change(
            p, _me(), competency_id=_int(request.form.get("competency_id"), "bad_competency"),
            new_level=_int(request.form.get("new_level"), "bad_level"),
            note=request.form.get("note"), actor=current_user)
    except LogError as exc:
        db.session.rollback()
        flash(_err(exc), "error")
        return redirect(url_for(".pair", pair_id=pair_id))
    db.session.commit()
    flash(_("Level change recorded."))
    return redirect(url_for(".pair", pair_id=pair_id))


@bp.post("/pairs/<int:pair_id>/end")
@requires()
def end_pair(pair_id: int):
    from ..services import feedback

    p = _member_pair(pair_id)
    try:
        feedback.end_pair(p, _me(), request.form.get("reason", ""), actor=current_user)
    except LogError as exc:
        db.session.rollback()
        flash(_err(exc), "error")
        return redirect(url_for(".pair", pair_id=pair_id))
    db.session.commit()
    flash(_("The pair was ended. The coordinator has been told."))
    return redirect(url_for(".pair", pair_id=pair_id))


@bp.route("/pairs/<int:pair_id>/evaluation/<stage>", methods=["GET", "POST"])
@requires()
def evaluation(pair_id: int, stage: str):
    from ..services import feedback

    p = _member_pair(pair_id)
    if stage not in feedback.STAGES:
        abort(404)
    done = feedback.evaluations_of(p, current_user.person).get(stage)
    error = None
    if request.method == "POST" and done is None:
        try:
            feedback.submit_evaluation(p, _me(), stage, request.form.to_dict(),
                                       actor=current_user)
        except LogError as exc:
            db.session.rollback()
            error = _err(exc)
        else:
            db.session.commit()
            flash(_("Thank you for your evaluation."))
            return redirect(url_for(".pair", pair_id=pair_id))
    return render_template("participants/evaluation.html", pair=p, stage=stage, done=done,
                           questions=feedback.questions(), error=error,
                           text=feedback.question_text), (400 if error else 200)


@bp.post("/logs/<int:log_id>/feedback")
@requires()
def give_feedback(log_id: int):
    from ..services import feedback

    log, p = _log_and_pair(log_id)
    guard("pair.member", p)
    try:
        feedback.give_feedback(log, _me(), _int(request.form.get("rating"), "bad_rating"),
                               request.form.get("comment"), actor=current_user)
    except LogError as exc:
        db.session.rollback()
        flash(_err(exc), "error")
        return redirect(url_for(".show_log", log_id=log_id))
    db.session.commit()
    flash(_("Thank you for your feedback."))
    return redirect(url_for(".show_log", log_id=log_id))


@bp.get("/certificate")
@requires("mentee.home")
def certificate():
    from ..services import feedback

    year = request.args.get("year", type=int)
    lines, minutes, total_jp = feedback.certificate(current_user.person, year)
    from ..services.jp import fmt_jp

    return render_template("participants/certificate.html", person=current_user.person,
                           lines=lines, minutes=minutes, total_jp=fmt_jp(total_jp), year=year,
                           fmt_jp=fmt_jp, issued=utcnow())
