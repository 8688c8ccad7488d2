"""Feedback after each logged session, mid-point / end evaluations (questions from config
`[evaluation]`, opening by progress), and ending a pair early. Services flush, never commit;
refusals are `FeedbackError` (codes in `participant_errors`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Actor,
    Evaluation,
    Feedback,
    Pair,
    Person,
    ProgrammeCoordinator,
    Session,
    SessionLog,
    SessionSeries,
    User,
    utcnow,
)
from ..settings import Question, settings
from . import audit, invites, participant_mail
from .logbook import local_today, pair_started_on
from .participant_errors import FeedbackError
from .timefmt import format_day

STAGES = ("mid", "end")
KINDS = ("rating", "text")
CLOSED_PAIR = ("ended", "completed")


def questions() -> tuple[Question, ...]:
    """The evaluation questions of `[evaluation] questions` (config/defaults.toml documents the
    format and holds the default BerAKHLAK set; a malformed entry stops the start)."""
    return settings().evaluation.questions


def question_text(q: Question, locale: str) -> str:
    return q.text(locale)


# -- feedback ------------------------------------------------------------------------------

def give_feedback(log: SessionLog, person: Person, rating: int, comment: str | None, *,
                  actor: Actor = None) -> tuple[Feedback, bool]:
    """One 1-5 rating (and comment) per side and log; a second send returns the first."""
    pair = db.session.get_one(Pair, log.pair_id)
    if pair.member_role(person.id) is None:
        raise FeedbackError("not_member")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise FeedbackError("bad_rating")
    existing = db.session.scalar(select(Feedback).where(Feedback.log_id == log.id,
                                                        Feedback.author_id == person.id))
    if existing is not None:
        return existing, False
    fb = Feedback(log_id=log.id, author_id=person.id, rating=rating,
                  comment=(comment or "").strip()[:2000] or None)
    db.session.add(fb)
    db.session.flush()
    audit.record(actor, "feedback.give", fb, programme_id=pair.programme_id)
    return fb, True


def feedback_for_log(log: SessionLog) -> list[Feedback]:
    return list(db.session.scalars(select(Feedback).where(Feedback.log_id == log.id)
                                   .order_by(Feedback.id)))


# -- evaluations: when they open -------------------------------------------------------------

@dataclass(frozen=True)
class EvalWindow:
    stage: str
    is_open: bool
    opens_on: date | None  # by the calendar
    after_sessions: int | None  # mid: or once this many sessions took place
    total_sessions: int
    done_sessions: int

    def text(self) -> str:
        """When it opens, in the viewer's language."""
        if self.is_open:
            return str(_("Open now."))
        day = format_day(self.opens_on)
        if self.stage == "mid":
            return str(_("Opens on %(date)s, or earlier after %(half)s of %(total)s sessions "
                         "(%(done)s so far).", date=day, half=self.after_sessions,
                         total=self.total_sessions, done=self.done_sessions))
        return str(_("Opens on %(date)s (after the last session), or when the pair ends.",
                     date=day))


def evaluation_windows(pair: Pair, viewer: Person, *,
                       now: datetime | None = None) -> dict[str, EvalWindow]:
    """Mid-point: after half the sessions took place or half the pair's period passed. End:
    after the last session starts, at the programme's end, or when the pair ends."""
    now = now or utcnow()
    tz = ZoneInfo(viewer.timezone)
    today = local_today(viewer, now)
    planned = list(db.session.scalars(
        select(Session).join(SessionSeries, SessionSeries.id == Session.series_id)
        .where(SessionSeries.pair_id == pair.id, Session.status != "cancelled")
        .order_by(Session.start_at)))
    total = len(planned) or pair.programme.session_count
    held = sum(1 for s in planned if s.status == "held")
    confirmed = int(db.session.scalar(select(func.count(SessionLog.id)).where(
        SessionLog.pair_id == pair.id, SessionLog.status == "confirmed")) or 0)
    done = max(held, confirmed)
    closed = pair.status in CLOSED_PAIR
    end_date = pair.programme.end_date
    if pair.ended_at is not None:
        end_date = min(end_date, pair.ended_at.astimezone(tz).date())
    start = pair_started_on(pair, viewer.timezone)
    start = min(start, end_date)
    half = math.ceil(total / 2)
    mid_on = start + (end_date - start) / 2
    mid = EvalWindow("mid", closed or done >= half or today >= mid_on, mid_on, half, total, done)
    last = planned[-1].start_at if planned else None
    end_on = min(last.astimezone(tz).date(), end_date) if last else end_date
    end_open = closed or today >= end_date or (last is not None and now >= last)
    end = EvalWindow("end", end_open, end_on, None, total, done)
    return {"mid": mid, "end": end}


def submit_evaluation(pair: Pair, person: Person, stage: str, answers: dict[str, Any], *,
                      actor: Actor = None, now: datetime | None = None
                      ) -> tuple[Evaluation, bool]:
    if pair.member_role(person.id) is None:
        raise FeedbackError("not_member")
    if stage not in STAGES:
        raise FeedbackError("bad_stage")
    existing = db.session.scalar(select(Evaluation).where(
        Evaluation.pair_id == pair.id, Evaluation.author_id == person.id,
        Evaluation.stage == stage))
    if existing is not None:
        return existing, False
    window = evaluation_windows(pair, person, now=now)[stage]
    if not window.is_open:
        raise FeedbackError("evaluation_not_open", when=window.text)
    clean: dict[str, Any] = {}
    for q in questions():
        value: Any = answers.get(q.key)
        if q.kind == "rating":
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise FeedbackError("answer_all") from None
            if not 1 <= number <= 5:
                raise FeedbackError("answer_all")
            clean[q.key] = number
        else:
            clean[q.key] = (str(value or "")).strip()[:2000]
    ev = Evaluation(pair_id=pair.id, author_id=person.id, stage=stage, answers=clean)
    db.session.add(ev)
    db.session.flush()
    audit.record(actor, "evaluation.submit", ev, programme_id=pair.programme_id, stage=stage)
    return ev, True


def evaluations_of(pair: Pair, person: Person) -> dict[str, Evaluation]:
    rows = db.session.scalars(select(Evaluation).where(Evaluation.pair_id == pair.id,
                                                       Evaluation.author_id == person.id))
    return {e.stage: e for e in rows}


# -- ending a pair early -------------------------------------------------------------------

def coordinator_users(programme_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(ProgrammeCoordinator, ProgrammeCoordinator.user_id == User.id)
        .where(ProgrammeCoordinator.programme_id == programme_id).order_by(User.id)))


def end_pair(pair: Pair, person: Person, reason: str, *, actor: Actor = None) -> Pair:
    """End a pair early: status 'ended', future sessions cancelled, coordinators e-mailed."""
    role = pair.member_role(person.id)
    if role is None:
        raise FeedbackError("not_member")
    if not pair.is_live:
        raise FeedbackError("pair_inactive")
    reason = (reason or "").strip()
    if not reason:
        raise FeedbackError("reason_required")
    pair.status, pair.ended_at, pair.end_reason = "ended", utcnow(), reason[:1000]
    db.session.flush()
    for series in db.session.scalars(select(SessionSeries).where(
            SessionSeries.pair_id == pair.id, SessionSeries.status == "active")):
        invites.cancel_series(series, actor=actor)
    for coord in coordinator_users(pair.programme_id):
        participant_mail.to_user(coord, "pair_ended", key=f"pair_ended:{pair.id}:{coord.id}",
                                 pair=pair, by=person, role=role, reason=pair.end_reason)
    audit.record(actor, "pair.end", pair, programme_id=pair.programme_id, by_role=role,
                 reason=pair.end_reason)
    return pair
