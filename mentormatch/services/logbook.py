"""Session logs: the mentee writes, the mentor confirms or disputes, confirmed minutes earn JP.

Services flush and never commit. Errors are `LogError` with a short code the view translates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from ..extensions import db
from ..models import (
    ActionItem,
    LogCompetency,
    Pair,
    Person,
    PersonCompetency,
    Session,
    SessionLog,
    SessionSeries,
    User,
    utcnow,
)
from . import audit, jp
from .access import coordinates

MAX_MINUTES = 600  # the table's check constraint: 1..600
LOGGABLE_PAIR_STATES = ("active", "completed", "ended")
UNLOGGABLE_SESSION_STATES = ("cancelled", "not_held")


class LogError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ActionInput:
    text: str
    due_date: date | None = None


@dataclass(frozen=True)
class LogInput:
    held_on: date
    duration_minutes: int
    topics: str
    notes: str | None = None
    notes_visible_to_coordinator: bool = False
    competency_ids: Sequence[int] = ()
    action_items: Sequence[ActionInput] = ()
    session_id: int | None = None


def _cfg() -> dict[str, Any]:
    return dict(current_app.config["MM"].get("jp", {}))


def rule_for(pair: Pair) -> jp.JpRule:
    return jp.rule_from(_cfg(), pair.programme.jp_rule if pair.programme else None)


def yearly_target() -> int:
    return int(_cfg().get("yearly_target_jp", 20))


def gap_competency_ids(pair: Pair) -> set[int]:
    """Competencies a mentee may tick: their gaps plus the pair's focus."""
    mentee: Person = pair.mentee
    ids = {pc.competency_id for pc in mentee.competencies if pc.gap > 0}
    focus = set(pair.focus or [])
    ids |= {pc.competency_id for pc in mentee.competencies if pc.competency.code in focus}
    if focus:
        from .catalogue import by_code

        codes = by_code()
        ids |= {codes[c].id for c in focus if c in codes}
    return ids


def gap_rows(pair: Pair) -> list[PersonCompetency]:
    return [pc for pc in pair.mentee.competencies if pc.competency_id in gap_competency_ids(pair)]


def _validate(pair: Pair, data: LogInput, *, today: date | None = None,
              current: SessionLog | None = None) -> Session | None:
    today = today or utcnow().date()
    if pair.status not in LOGGABLE_PAIR_STATES:
        raise LogError("pair_inactive")
    minutes = data.duration_minutes
    if not isinstance(minutes, int) or minutes < 1:
        raise LogError("duration_too_short")
    if minutes > MAX_MINUTES:
        raise LogError("duration_too_long")
    # Allow one day ahead: the mentee's local date may be ahead of UTC.
    if data.held_on > today + timedelta(days=1):
        raise LogError("future_date")
    if data.held_on.year < today.year - 1:
        raise LogError("too_old")
    topics = (data.topics or "").strip()
    if not topics:
        raise LogError("topics_required")
    if len(topics) > 1000 or len(data.notes or "") > 20000:
        raise LogError("too_long")
    allowed_ids = gap_competency_ids(pair)
    if any(cid not in allowed_ids for cid in data.competency_ids):
        raise LogError("bad_competency")
    for item in data.action_items:
        if not item.text.strip() or len(item.text) > 500:
            raise LogError("bad_action_item")
    session = None
    if data.session_id is not None:
        session = db.session.get(Session, data.session_id)
        if session is None or session.series.pair_id != pair.id:
            raise LogError("bad_session")
        if session.status in UNLOGGABLE_SESSION_STATES:
            raise LogError("session_not_held")
        taken = db.session.scalar(select(SessionLog).where(SessionLog.session_id == session.id))
        if taken is not None and taken is not current:
            raise LogError("already_logged")
    return session


def _apply(log: SessionLog, data: LogInput) -> None:
    log.held_on = data.held_on
    log.duration_minutes = data.duration_minutes
    log.topics = data.topics.strip()
    log.notes = (data.notes or "").strip() or None
    log.notes_visible_to_coordinator = bool(data.notes_visible_to_coordinator)
    log.session_id = data.session_id
    wanted = list(dict.fromkeys(data.competency_ids))
    log.competencies[:] = [c for c in log.competencies if c.competency_id in wanted]
    have = {c.competency_id for c in log.competencies}
    log.competencies.extend(LogCompetency(competency_id=cid) for cid in wanted if cid not in have)
    log.action_items[:] = [ActionItem(text=i.text.strip(), due_date=i.due_date)
                           for i in data.action_items]


def find_duplicate(pair: Pair, data: LogInput) -> SessionLog | None:
    """A second submit of the same form (double click, back-and-resubmit) finds the first."""
    if data.session_id is not None:
        return db.session.scalar(select(SessionLog).where(SessionLog.session_id == data.session_id))
    return db.session.scalar(
        select(SessionLog).where(
            SessionLog.pair_id == pair.id,
            SessionLog.held_on == data.held_on,
            SessionLog.duration_minutes == data.duration_minutes,
            SessionLog.topics == (data.topics or "").strip(),
        ).limit(1)
    )


def submit_log(pair: Pair, author: Person, data: LogInput, *, actor: Any = None,
               today: date | None = None) -> tuple[SessionLog, bool]:
    """Create a log (the mentee only). Returns (log, created); a duplicate returns the first."""
    if pair.member_role(author.id) != "mentee":
        raise LogError("not_mentee")
    existing = find_duplicate(pair, data)
    if existing is not None and existing.pair_id == pair.id:
        return existing, False
    session = _validate(pair, data, today=today)
    log = SessionLog(pair_id=pair.id, author_id=author.id, status="submitted")
    _apply(log, data)
    db.session.add(log)
    if session is not None and session.status in ("scheduled", "missed"):
        session.status = "held"
    db.session.flush()
    audit.record(actor, "log.submit", log, programme_id=pair.programme_id)
    return log, True


def update_log(log: SessionLog, author: Person, data: LogInput, *, actor: Any = None,
               today: date | None = None) -> SessionLog:
    """Edit until confirmed; editing a disputed log sends it back for confirmation."""
    pair = db.session.get(Pair, log.pair_id)
    if log.author_id != author.id:
        raise LogError("not_author")
    if log.status == "confirmed":
        raise LogError("already_confirmed")
    _validate(pair, data, today=today, current=log)
    _apply(log, data)
    log.status, log.dispute_comment = "submitted", None
    db.session.flush()
    audit.record(actor, "log.update", log, programme_id=pair.programme_id)
    return log


def confirm_log(log: SessionLog, mentor: Person, *, actor: Any = None) -> SessionLog:
    pair = db.session.get(Pair, log.pair_id)
    if pair.member_role(mentor.id) != "mentor":
        raise LogError("not_mentor")
    if log.status == "confirmed":
        return log  # a second click changes nothing
    log.status = "confirmed"
    log.confirmed_by_id, log.confirmed_at = mentor.id, utcnow()
    log.dispute_comment = None
    log.credited_minutes = jp.credited_minutes(log.duration_minutes, rule_for(pair))
    db.session.flush()
    audit.record(actor, "log.confirm", log, programme_id=pair.programme_id,
                 credited_minutes=log.credited_minutes)
    return log


def dispute_log(log: SessionLog, mentor: Person, comment: str, *, actor: Any = None) -> SessionLog:
    pair = db.session.get(Pair, log.pair_id)
    if pair.member_role(mentor.id) != "mentor":
        raise LogError("not_mentor")
    if log.status == "confirmed":
        raise LogError("already_confirmed")
    comment = (comment or "").strip()
    if not comment:
        raise LogError("comment_required")
    log.status, log.dispute_comment = "disputed", comment[:1000]
    log.credited_minutes = 0
    db.session.flush()
    audit.record(actor, "log.dispute", log, programme_id=pair.programme_id)
    return log


def notes_visible(user: User, log: SessionLog) -> bool:
    """Pair members see the notes; coordinators only when the mentee allowed it."""
    pair = db.session.get(Pair, log.pair_id)
    if pair.member_role(user.person_id) is not None:
        return True
    allowed = log.notes_visible_to_coordinator or pair.notes_shared_with_coordinator
    return allowed and coordinates(user, pair.programme_id)


def logs_for_pair(pair: Pair) -> list[SessionLog]:
    return list(db.session.scalars(
        select(SessionLog).where(SessionLog.pair_id == pair.id)
        .order_by(SessionLog.held_on.desc(), SessionLog.id.desc())))


# -- JP earned ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class JpSummary:
    year: int
    minutes: int
    jp: Decimal
    target: int
    sessions: int

    @property
    def percent(self) -> int:
        return jp.progress_percent(self.jp, self.target)

    @property
    def jp_text(self) -> str:
        return jp.fmt_jp(self.jp)


def confirmed_logs(person_id: int, *, year: int | None = None,
                   pair_ids: Iterable[int] | None = None) -> list[tuple[SessionLog, Pair]]:
    stmt = (
        select(SessionLog, Pair).join(Pair, Pair.id == SessionLog.pair_id)
        .where(SessionLog.status == "confirmed",
               or_(Pair.mentor_id == person_id, Pair.mentee_id == person_id))
        .order_by(SessionLog.held_on)
    )
    if year is not None:
        stmt = stmt.where(SessionLog.held_on >= date(year, 1, 1),
                          SessionLog.held_on <= date(year, 12, 31))
    if pair_ids is not None:
        stmt = stmt.where(Pair.id.in_(list(pair_ids)))
    return [(row[0], row[1]) for row in db.session.execute(stmt)]


def jp_summary(person_id: int, year: int | None = None) -> JpSummary:
    """JP earned in a calendar year by a mentor or mentee: confirmed logs of their pairs.

    Minutes are summed per programme and converted by that programme's rule."""
    year = year or utcnow().year
    per_programme: dict[int, tuple[Pair, int]] = {}
    rows = confirmed_logs(person_id, year=year)
    for log, pair in rows:
        if not jp.in_year(log.held_on, year):
            continue
        _, minutes = per_programme.get(pair.programme_id, (pair, 0))
        per_programme[pair.programme_id] = (pair, minutes + log.credited_minutes)
    total_minutes = sum(m for _, m in per_programme.values())
    earned = sum((jp.minutes_to_jp(m, rule_for(p)) for p, m in per_programme.values()),
                 Decimal(0))
    return JpSummary(year=year, minutes=total_minutes, jp=earned, target=yearly_target(),
                     sessions=len(rows))


# -- sessions: mark held / not held, propose a new time ---------------------------------------

def pair_of_session(session: Session) -> Pair:
    series: SessionSeries = session.series
    return series.pair


def mark_session(session: Session, mentor: Person, held: bool, *, actor: Any = None,
                 now: datetime | None = None) -> Session:
    pair = pair_of_session(session)
    if pair.member_role(mentor.id) != "mentor":
        raise LogError("not_mentor")
    if session.status == "cancelled":
        raise LogError("session_cancelled")
    if session.start_at > (now or utcnow()):
        raise LogError("session_in_future")
    session.status = "held" if held else "not_held"
    session.marked_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record(actor, "session.mark", session, programme_id=pair.programme_id,
                 status=session.status)
    return session


def propose_time(session: Session, mentor: Person, new_start: datetime, *, actor: Any = None,
                 now: datetime | None = None) -> Session:
    pair = pair_of_session(session)
    if pair.member_role(mentor.id) != "mentor":
        raise LogError("not_mentor")
    if session.status != "scheduled":
        raise LogError("session_not_scheduled")
    if new_start.tzinfo is None:
        raise LogError("bad_time")
    if new_start <= (now or utcnow()):
        raise LogError("time_in_past")
    session.proposed_start = new_start
    db.session.flush()
    audit.record(actor, "session.propose", session, programme_id=pair.programme_id,
                 proposed_start=new_start.isoformat())
    return session


def answer_proposal(session: Session, mentee: Person, accept: bool, *,
                    actor: Any = None) -> Session:
    """The mentee accepts (the session moves; calendar updates go out) or declines."""
    pair = pair_of_session(session)
    if pair.member_role(mentee.id) != "mentee":
        raise LogError("not_mentee")
    if session.proposed_start is None:
        raise LogError("no_proposal")
    new_start = session.proposed_start
    session.proposed_start = None
    if accept:
        from . import invites

        invites.reschedule_session(session, new_start, actor=actor)
    db.session.flush()
    audit.record(actor, "session.proposal_answer", session, programme_id=pair.programme_id,
                 accepted=accept)
    return session
