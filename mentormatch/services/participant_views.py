"""What the mentor and mentee pages show: the reads behind the views (the views stay thin), and
the translated labels for statuses and focus competencies (never raw codes on a page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from babel.dates import format_date
from flask import has_request_context, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from ..extensions import db
from ..models import (
    Attendee,
    Competency,
    Evaluation,
    Feedback,
    LevelChange,
    Pair,
    Person,
    Session,
    SessionLog,
    SessionSeries,
    utcnow,
)
from ..models.pair import RAN_PAIR_STATES
from . import feedback, goals, jp, logbook
from .catalogue import all_competencies, by_code

HOME_PAIR_STATES = RAN_PAIR_STATES


# -- labels ----------------------------------------------------------------------------------

def role_label(role: str | None) -> str:
    return str(_("mentor") if role == "mentor" else _("mentee"))


def _codes() -> dict[str, Competency]:
    """The catalogue by code, read once per request: a home names every pair's focus (kept in
    the request's environ, not in ``g``, which tests keep across requests)."""
    if not has_request_context():
        return by_code()
    codes: dict[str, Competency] | None = request.environ.get(_CODES)
    if codes is None:
        codes = request.environ[_CODES] = by_code()
    return codes


_CODES = "mentormatch.competencies_by_code"


def focus_names(pair: Pair) -> list[str]:
    """The pair's focus competencies by name in the viewer's language."""
    locale = str(get_locale() or "id")
    codes = _codes()
    return [codes[c].name(locale) for c in (pair.focus or []) if c in codes]


def format_day(value: date | None) -> str:
    if value is None:
        return "-"
    locale = str(get_locale() or "id")
    return format_date(value, "EEE, d MMM yyyy", locale="id_ID" if locale == "id" else "en_GB")


# -- homes -----------------------------------------------------------------------------------

def pairs_of(person: Person, role: str) -> list[Pair]:
    col = Pair.mentor_id if role == "mentor" else Pair.mentee_id
    return list(db.session.scalars(
        select(Pair).where(col == person.id, Pair.status.in_(HOME_PAIR_STATES))
        .order_by(Pair.status, Pair.id)))


def remaining_sessions(pair_id: int, now: datetime | None = None) -> int:
    """Scheduled sessions still to come (what ending the pair would cancel)."""
    now = now or utcnow()
    return db.session.scalar(
        select(func.count(Session.id)).join(SessionSeries, SessionSeries.id == Session.series_id)
        .where(SessionSeries.pair_id == pair_id, Session.status == "scheduled",
               Session.start_at >= now)) or 0


def upcoming_sessions(pair_ids: list[int], now: datetime, limit: int = 10) -> list[Session]:
    if not pair_ids:
        return []
    return list(db.session.scalars(
        select(Session).join(SessionSeries, SessionSeries.id == Session.series_id)
        .options(contains_eager(Session.series))  # the page names each session's pair
        .where(SessionSeries.pair_id.in_(pair_ids), Session.status == "scheduled",
               Session.end_at >= now)
        .order_by(Session.start_at).limit(limit)))


def sessions_to_mark(pair_ids: list[int], now: datetime, limit: int = 10) -> list[Session]:
    """Sessions that have started and are still 'scheduled' or 'missed': held or not held?"""
    if not pair_ids:
        return []
    return list(db.session.scalars(
        select(Session).join(SessionSeries, SessionSeries.id == Session.series_id)
        .options(contains_eager(Session.series))
        .where(SessionSeries.pair_id.in_(pair_ids),
               Session.status.in_(("scheduled", "missed")), Session.start_at <= now)
        .order_by(Session.start_at.desc()).limit(limit)))


def recent_logs(pair_ids: list[int], limit: int = 50, *,
                status: str | None = None) -> list[SessionLog]:
    if not pair_ids:
        return []
    stmt = select(SessionLog).where(SessionLog.pair_id.in_(pair_ids))
    if status is not None:
        stmt = stmt.where(SessionLog.status == status)
    return list(db.session.scalars(
        stmt.order_by(SessionLog.held_on.desc(), SessionLog.id.desc()).limit(limit)))


def pending_invites(person: Person) -> list[tuple[Attendee, SessionSeries]]:
    rows = db.session.execute(
        select(Attendee, SessionSeries).join(SessionSeries, SessionSeries.id == Attendee.series_id)
        .where(Attendee.person_id == person.id, Attendee.role == "mentor",
               Attendee.partstat.in_(("NEEDS-ACTION", "TENTATIVE")),
               SessionSeries.status == "active")
        .order_by(SessionSeries.first_start))
    return [(row[0], row[1]) for row in rows]


@dataclass
class Home:
    pairs: list[Pair]
    upcoming: list[Session]
    logs: list[SessionLog]
    jp: jp.PersonJp
    to_mark: list[Session]
    invites: list[tuple[Attendee, SessionSeries]]
    pending: list[SessionLog]  # logs waiting for the mentor (however old)

    @cached_property
    def pair_by_id(self) -> dict[int, Pair]:
        return {p.id: p for p in self.pairs}

    @property
    def proposals(self) -> list[Session]:
        return [s for s in self.upcoming if s.proposed_start is not None]


def _home_pairs(person: Person, role: str) -> list[Pair]:
    """The home's pairs with what the page shows of each (the other person, the programme,
    the goals) loaded in three statements, not three per pair."""
    col = Pair.mentor_id if role == "mentor" else Pair.mentee_id
    other = Pair.mentee if role == "mentor" else Pair.mentor
    return list(db.session.scalars(
        select(Pair).where(col == person.id, Pair.status.in_(HOME_PAIR_STATES))
        .options(selectinload(other), selectinload(Pair.programme), selectinload(Pair.goals))
        .order_by(Pair.status, Pair.id)))


def home(person: Person, role: str, *, now: datetime | None = None) -> Home:
    """The mentor's or the mentee's home. JP: this (local) calendar year, both roles."""
    now = now or utcnow()
    pairs = _home_pairs(person, role)
    if role == "mentee":  # a declined pair stays in view (with its "you will be re-matched")
        seen = {p.programme_id for p in pairs}  # until a new pair in that programme exists
        for p in db.session.scalars(select(Pair).where(
                Pair.mentee_id == person.id, Pair.status == "declined")
                .options(selectinload(Pair.mentor), selectinload(Pair.programme),
                         selectinload(Pair.goals)).order_by(Pair.id.desc())):
            if p.programme_id not in seen:
                seen.add(p.programme_id)
                pairs.append(p)
    ids = [p.id for p in pairs]
    year = logbook.local_today(person, now).year
    mentor = role == "mentor"
    return Home(pairs=pairs, upcoming=upcoming_sessions(ids, now), logs=recent_logs(ids),
                jp=jp.person_jp(person.id, year=year),
                to_mark=sessions_to_mark(ids, now) if mentor else [],
                invites=pending_invites(person) if mentor else [],
                pending=recent_logs(ids, 200, status="submitted") if mentor else [])


# -- the log form, a log, the pair page ------------------------------------------------------

def loggable_sessions(pair: Pair, author: Person, current: SessionLog | None = None,
                      now: datetime | None = None) -> list[Session]:
    """Sessions the mentee may attach a log to: started, not cancelled or not held, without a
    log yet (but the one being edited) and on a date a log may carry."""
    now = now or utcnow()
    logged = select(SessionLog.id).where(SessionLog.session_id == Session.id)
    if current is not None and current.id is not None:
        logged = logged.where(SessionLog.id != current.id)
    rows = db.session.scalars(
        select(Session).join(SessionSeries, SessionSeries.id == Session.series_id)
        .where(SessionSeries.pair_id == pair.id, Session.start_at <= now,
               Session.status.in_(("scheduled", "held", "missed")), ~logged.exists())
        .order_by(Session.start_at.desc()).limit(20))
    return [s for s in rows
            if logbook.day_allowed(pair, author, logbook.session_day(s, author), now)]


@dataclass
class LogPage:
    feedback: list[Feedback]
    my_feedback: Feedback | None


def log_page(log: SessionLog, viewer: Person | None) -> LogPage:
    rows = feedback.feedback_for_log(log)
    mine = next((fb for fb in rows if viewer is not None and fb.author_id == viewer.id), None)
    return LogPage(rows, mine)


@dataclass
class PairPage:
    progress: list[goals.ProgressRow]
    changes: list[LevelChange]
    logs: list[SessionLog]
    competencies: list[Competency]
    windows: dict[str, feedback.EvalWindow]
    evaluations: dict[str, Evaluation]


def pair_page(pair: Pair, viewer: Person | None, role: str | None, *,
              now: datetime | None = None) -> PairPage:
    page = PairPage(
        progress=goals.progress(pair), changes=goals.level_changes(pair),
        logs=logbook.logs_for_pair(pair), competencies=all_competencies(),
        windows={}, evaluations={})
    if role is not None and viewer is not None:  # a member of the pair
        page.windows = feedback.evaluation_windows(pair, viewer, now=now)
        page.evaluations = feedback.evaluations_of(pair, viewer)
    return page
