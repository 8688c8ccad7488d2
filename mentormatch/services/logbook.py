"""Session logs: the mentee writes, the mentor confirms or disputes, confirmed minutes earn JP.
Also the mentor's session actions: mark held / not held, propose a new time (the mentee answers).

Services flush and never commit. Refusals are `LogError` (codes in `participant_errors`).
Dates are checked against the author's *local* date (their zone), session starts as UTC instants.
A log of a session takes the session's local date unless the date given is within the tolerance.

Not held after a log: a session whose log is confirmed (JP credited) or waiting for confirmation
cannot be marked not held; the mentor disputes a wrong pending log instead, and a log whose
session was marked not held or cancelled cannot be confirmed. So credit never outlives the
session it was earned in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..calendar.holidays import holiday_name
from ..extensions import db
from ..models import (
    ActionItem,
    Actor,
    AuditLog,
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
from ..settings import settings
from . import audit, invites, jp, participant_mail
from .access import coordinates
from .catalogue import by_code
from .invites import InviteError
from .participant_errors import LogError
from .session_times import check_slot
from .timefmt import weekday_name

__all__ = ["ActionInput", "LogError", "LogInput"]

MAX_MINUTES = 600  # the table's check constraint: 1..600
LOGGABLE_PAIR_STATES = ("active", "completed", "ended")
UNLOGGABLE_SESSION_STATES = ("cancelled", "not_held")
TOKEN_MAX = 64


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
    token: str | None = None  # the form's idempotency token


def rule_for(pair: Pair) -> jp.JpRule:
    return jp.rule_for(pair.programme)


def max_minutes_per_day() -> int:
    return settings().logbook.max_minutes_per_day


def grace_days() -> int:
    return settings().logbook.grace_days_after_end


def local_today(person: Person, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(person.timezone)).date()


def pair_started_on(pair: Pair, tz: str) -> date:
    """The local date the pair began: its creation (approval) or its first session, if earlier."""
    first = db.session.scalar(
        select(func.min(Session.start_at))
        .join(SessionSeries, SessionSeries.id == Session.series_id)
        .where(SessionSeries.pair_id == pair.id))
    moments = [m for m in (pair.created_at, first) if m is not None]
    zone = ZoneInfo(tz)
    return min(m.astimezone(zone).date() for m in moments) if moments else date.min


def date_window(pair: Pair, author: Person, now: datetime | None = None) -> tuple[date, date]:
    """The dates a log may carry: from the pair's start to today (local), and never later than
    the programme's end plus the grace days."""
    last = local_today(author, now)
    if pair.programme is not None:
        last = min(last, pair.programme.end_date + timedelta(days=grace_days()))
    return pair_started_on(pair, author.timezone), last


def gap_competency_ids(pair: Pair) -> set[int]:
    """Competencies a mentee may tick: their gaps plus the pair's focus."""
    mentee: Person = pair.mentee
    ids = {pc.competency_id for pc in mentee.competencies if pc.gap > 0}
    focus = set(pair.focus or [])
    if focus:
        codes = by_code()
        ids |= {codes[c].id for c in focus if c in codes}
    return ids


def gap_rows(pair: Pair) -> list[PersonCompetency]:
    allowed = gap_competency_ids(pair)
    return [pc for pc in pair.mentee.competencies if pc.competency_id in allowed]


def _minutes_logged_on(pair: Pair, day: date, current: SessionLog | None) -> int:
    """Minutes the pair already claims for a day (disputed logs excluded: they are corrected)."""
    stmt = select(func.coalesce(func.sum(SessionLog.duration_minutes), 0)).where(
        SessionLog.pair_id == pair.id, SessionLog.held_on == day,
        SessionLog.status != "disputed")
    if current is not None and current.id is not None:
        stmt = stmt.where(SessionLog.id != current.id)
    return int(db.session.scalar(stmt) or 0)


def session_day(session: Session, person: Person) -> date:
    """The local date (the person's zone) a session took place on."""
    return session.start_at.astimezone(ZoneInfo(person.timezone)).date()


def _on_session_day(pair: Pair, author: Person, data: LogInput, now: datetime) -> LogInput:
    """A log of one of the pair's started sessions carries that session's date: the date typed
    is kept only where it is within the tolerance (a session that ran past midnight, a date
    chosen on purpose), else the session's own local date replaces it. So choosing a session
    is never refused for the date the form happened to show (today)."""
    if data.session_id is None:
        return data
    session = db.session.get(Session, data.session_id)
    if session is None or session.series.pair_id != pair.id or session.start_at > now:
        return data  # refused by _validate, with its own reason
    on = session_day(session, author)
    if abs((data.held_on - on).days) <= settings().logbook.session_date_tolerance_days:
        return data
    return replace(data, held_on=on)


def day_allowed(pair: Pair, author: Person, day: date, now: datetime | None = None) -> bool:
    """Whether a log may carry ``day`` (the date checks of `_validate`)."""
    return _date_refusal(pair, author, day, now) is None


def _date_refusal(pair: Pair, author: Person, day: date, now: datetime | None
                  ) -> LogError | None:
    """Why a log may not carry ``day``, or None: the one rule for `_validate` and the
    sessions the form offers (`day_allowed`)."""
    first, last = date_window(pair, author, now)
    today = local_today(author, now)
    if day > today:
        return LogError("future_date", today=today)
    if day > last:
        return LogError("after_programme_end", days=grace_days(), date=pair.programme.end_date)
    if day < first:
        return LogError("before_pair_start", date=first)
    if pair.programme is not None and day < pair.programme.start_date:
        return LogError("before_programme_start", date=pair.programme.start_date)
    if off_day(day) and off_day_rule(pair) == "refuse":
        return LogError("off_day_refused", date=day, why=off_day(day))
    return None


def _validate(pair: Pair, author: Person, data: LogInput, *, now: datetime,
              current: SessionLog | None = None) -> Session | None:
    if pair.status not in LOGGABLE_PAIR_STATES:
        raise LogError("pair_inactive")
    minutes = data.duration_minutes
    if not isinstance(minutes, int) or minutes < 1:
        raise LogError("duration_too_short")
    if minutes > MAX_MINUTES:
        raise LogError("duration_too_long", max=MAX_MINUTES)
    refusal = _date_refusal(pair, author, data.held_on, now)
    if refusal is not None:
        raise refusal
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
        if session.start_at > now:
            raise LogError("session_not_started")
        on = session_day(session, author)
        tolerance = settings().logbook.session_date_tolerance_days
        if abs((data.held_on - on).days) > tolerance:
            raise LogError("not_session_date", date=on, days=tolerance)
        taken = db.session.scalar(select(SessionLog).where(SessionLog.session_id == session.id))
        if taken is not None and taken is not current:
            raise LogError("already_logged")
    used = _minutes_logged_on(pair, data.held_on, current)
    if used + minutes > max_minutes_per_day():
        raise LogError("daily_limit", limit=max_minutes_per_day(), used=used,
                       date=data.held_on)
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


def clean_token(token: str | None) -> str | None:
    token = (token or "").strip()
    return token if token and len(token) <= TOKEN_MAX else None


def find_by_token(pair: Pair, token: str | None) -> SessionLog | None:
    """The log a form with this idempotency token already created (double click, retry)."""
    token = clean_token(token)
    if token is None:
        return None
    return db.session.scalar(select(SessionLog).where(SessionLog.pair_id == pair.id,
                                                      SessionLog.submit_token == token))


def _times(log: SessionLog, action: str) -> int:
    """How often an action (e.g. a dispute) happened to this log: part of e-mail dedupe keys."""
    return int(db.session.scalar(select(func.count(AuditLog.id)).where(
        AuditLog.action == action, AuditLog.object_type == "sessionlog",
        AuditLog.object_id == log.id)) or 0)


def _ask_mentor(pair: Pair, log: SessionLog, key: str) -> None:
    participant_mail.to_person(pair.mentor, "log_submitted", key=key, pair=pair, log=log,
                               link=f"{participant_mail._base_url()}/logs/{log.id}")


def submit_log(pair: Pair, author: Person, data: LogInput, *, actor: Actor = None,
               now: datetime | None = None) -> tuple[SessionLog, bool]:
    """Create a log (the mentee only) and ask the mentor to confirm it.

    Returns (log, created): a form submitted again with the same token returns the first log."""
    now = now or utcnow()
    if pair.member_role(author.id) != "mentee":
        raise LogError("not_mentee")
    existing = find_by_token(pair, data.token)
    if existing is not None:
        return existing, False
    data = _on_session_day(pair, author, data, now)
    session = _validate(pair, author, data, now=now)
    log = SessionLog(pair_id=pair.id, author_id=author.id, status="submitted",
                     submit_token=clean_token(data.token))
    _apply(log, data)
    db.session.add(log)
    if session is not None and session.status in ("scheduled", "missed"):
        session.status = "held"  # it has started (checked above) and the mentee says it took place
    db.session.flush()
    audit.record(actor, "log.submit", log, programme_id=pair.programme_id)
    _ask_mentor(pair, log, f"log_submitted:{log.id}:0")
    return log, True


def update_log(log: SessionLog, author: Person, data: LogInput, *, actor: Actor = None,
               now: datetime | None = None) -> SessionLog:
    """Edit until confirmed; editing a disputed log sends it back to the mentor."""
    now = now or utcnow()
    pair = db.session.get_one(Pair, log.pair_id)
    if log.author_id != author.id:
        raise LogError("not_author")
    if log.status == "confirmed":
        raise LogError("already_confirmed")
    data = _on_session_day(pair, author, data, now)
    session = _validate(pair, author, data, now=now, current=log)
    was_disputed = log.status == "disputed"
    _apply(log, data)
    if session is not None and session.status in ("scheduled", "missed"):
        session.status = "held"
    log.status, log.dispute_comment = "submitted", None
    db.session.flush()
    audit.record(actor, "log.update", log, programme_id=pair.programme_id)
    if was_disputed:
        _ask_mentor(pair, log, f"log_submitted:{log.id}:{_times(log, 'log.dispute')}")
    return log


def off_day(day: date) -> str | None:
    """Why ``day`` is no working day (the holiday's name, or the weekday in the reader's
    language), else None."""
    name = holiday_name(day)
    if name:
        return name
    return weekday_name(day.weekday()) if day.weekday() >= 5 else None


def off_day_rule(pair: Pair) -> str:
    """The programme's rule for logs dated on weekends and holidays (refuse | confirm | allow)."""
    rule = (pair.programme.off_day_logs if pair.programme is not None else None) \
        or settings().logbook.off_day_logs
    return rule if rule in ("refuse", "confirm", "allow") else "confirm"


def confirm_log(log: SessionLog, mentor: Person, *, actor: Actor = None,
                off_day_ok: bool = False) -> SessionLog:
    """Confirm: the minutes (capped by the programme's rule) are credited; the mentee is told.
    A log dated on a weekend or holiday needs ``off_day_ok`` where the programme says so."""
    pair = db.session.get_one(Pair, log.pair_id)
    if pair.member_role(mentor.id) != "mentor":
        raise LogError("not_mentor")
    if log.status == "confirmed":
        return log  # a second click changes nothing
    why = off_day(log.held_on)
    if why and off_day_rule(pair) == "refuse":
        raise LogError("off_day_refused", date=log.held_on, why=why)
    if why and off_day_rule(pair) == "confirm" and not off_day_ok:
        raise LogError("off_day_unconfirmed", why=why)
    if log.session_id is not None:
        session = db.session.get(Session, log.session_id)
        if session is not None and session.status in UNLOGGABLE_SESSION_STATES:
            raise LogError("log_session_not_held")
    log.status = "confirmed"
    log.confirmed_by_id, log.confirmed_at = mentor.id, utcnow()
    log.dispute_comment = None
    log.credited_minutes = jp.credited_minutes(log.duration_minutes, rule_for(pair))
    db.session.flush()
    audit.record(actor, "log.confirm", log, programme_id=pair.programme_id,
                 credited_minutes=log.credited_minutes)
    year = jp.person_jp(pair.mentee_id, year=log.held_on.year)
    participant_mail.to_person(pair.mentee, "log_confirmed", key=f"log_confirmed:{log.id}",
                               pair=pair, log=log, year_jp=year,  # per session: minutes
                               link=f"{participant_mail._base_url()}/logs/{log.id}")
    return log


def dispute_log(log: SessionLog, mentor: Person, comment: str, *,
                actor: Actor = None) -> SessionLog:
    """Dispute with a comment; the mentee is told and may correct the log."""
    pair = db.session.get_one(Pair, log.pair_id)
    if pair.member_role(mentor.id) != "mentor":
        raise LogError("not_mentor")
    if log.status == "confirmed":
        raise LogError("already_confirmed")
    comment = (comment or "").strip()[:1000]
    if not comment:
        raise LogError("comment_required")
    if log.status == "disputed" and log.dispute_comment == comment:
        return log  # the same dispute sent twice
    log.status, log.dispute_comment = "disputed", comment
    log.credited_minutes = 0
    db.session.flush()
    number = _times(log, "log.dispute") + 1
    audit.record(actor, "log.dispute", log, programme_id=pair.programme_id)
    participant_mail.to_person(pair.mentee, "log_disputed", key=f"log_disputed:{log.id}:{number}",
                               pair=pair, log=log, comment=comment,
                               link=f"{participant_mail._base_url()}/logs/{log.id}/edit")
    return log


def notes_visible(user: User, log: SessionLog) -> bool:
    """Pair members see the notes; coordinators only where the mentee allowed it on the log."""
    pair = db.session.get_one(Pair, log.pair_id)
    if pair.member_role(user.person_id) is not None:
        return True
    return log.notes_visible_to_coordinator and coordinates(user, pair.programme_id)


def logs_for_pair(pair: Pair) -> list[SessionLog]:
    return list(db.session.scalars(
        select(SessionLog).where(SessionLog.pair_id == pair.id)
        .order_by(SessionLog.held_on.desc(), SessionLog.id.desc())))


# -- sessions: mark held / not held, propose a new time ---------------------------------------

def pair_of_session(session: Session) -> Pair:
    series: SessionSeries = session.series
    return series.pair


def _live_logs(session: Session) -> list[SessionLog]:
    return list(db.session.scalars(select(SessionLog).where(
        SessionLog.session_id == session.id, SessionLog.status != "disputed")))


def mark_session(session: Session, mentor: Person, held: bool, *, actor: Actor = None,
                 now: datetime | None = None) -> Session:
    """Held or not held, only once the session has started. Not held is refused while a log
    of it is confirmed (the credit stays justified) or waiting for the mentor."""
    pair = pair_of_session(session)
    if pair.member_role(mentor.id) != "mentor":
        raise LogError("not_mentor")
    if session.status == "cancelled":
        raise LogError("session_cancelled")
    if session.start_at > (now or utcnow()):
        raise LogError("session_in_future")
    if not held:
        logs = _live_logs(session)
        if any(log.status == "confirmed" for log in logs):
            raise LogError("session_has_confirmed_log")
        if logs:
            raise LogError("session_has_pending_log")
    new_status = "held" if held else "not_held"
    if session.status == new_status:
        return session
    session.status = new_status
    session.marked_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record(actor, "session.mark", session, programme_id=pair.programme_id,
                 status=session.status)
    return session


def _proposals(session: Session) -> int:
    return int(db.session.scalar(select(func.count(AuditLog.id)).where(
        AuditLog.action == "session.propose", AuditLog.object_type == "session",
        AuditLog.object_id == session.id)) or 0)


def propose_time(session: Session, mentor: Person, new_start: datetime, *, actor: Actor = None,
                 now: datetime | None = None) -> Session:
    """The mentor proposes a new start; it must suit both people's working hours (each in their
    own zone), avoid holidays, leave and their other sessions. The mentee is e-mailed."""
    pair = pair_of_session(session)
    if pair.member_role(mentor.id) != "mentor":
        raise LogError("not_mentor")
    if session.status != "scheduled":
        raise LogError("session_not_scheduled")
    if new_start.tzinfo is None:
        raise LogError("bad_time")
    if new_start <= (now or utcnow()):
        raise LogError("time_in_past")
    if session.proposed_start == new_start:
        return session  # the same proposal sent twice
    new_end = new_start + (session.end_at - session.start_at)
    check_slot(new_start, new_end, [pair.mentor, pair.mentee], exclude_session_id=session.id)
    number = _proposals(session) + 1
    session.proposed_start = new_start
    db.session.flush()
    audit.record(actor, "session.propose", session, programme_id=pair.programme_id,
                 proposed_start=new_start.isoformat())
    participant_mail.to_person(pair.mentee, "proposal_new",
                               key=f"proposal:{session.id}:{number}", pair=pair,
                               session=session, new_start=new_start,
                               link=f"{participant_mail._base_url()}/mentee#proposals")
    return session


def answer_proposal(session: Session, mentee: Person, accept: bool, *, actor: Actor = None,
                    now: datetime | None = None) -> Session:
    """The mentee accepts (the session moves; the calendar REQUEST goes to both) or keeps the
    old time (the mentor is told)."""
    pair = pair_of_session(session)
    if pair.member_role(mentee.id) != "mentee":
        raise LogError("not_mentee")
    if session.proposed_start is None:
        raise LogError("no_proposal")
    new_start = session.proposed_start
    if accept:
        if session.status != "scheduled":
            raise LogError("session_not_scheduled")
        if new_start <= (now or utcnow()):
            raise LogError("proposal_expired")
        check_slot(new_start, new_start + (session.end_at - session.start_at),
                   [pair.mentor, pair.mentee], exclude_session_id=session.id)
        session.proposed_start = None
        try:
            invites.reschedule_session(session, new_start, actor=actor, now=now)
        except InviteError as exc:  # the calendar side refused the move (its own rules)
            raise LogError("reschedule_refused", reason=lambda e=exc: e.message) from exc
    else:
        session.proposed_start = None
        participant_mail.to_person(
            pair.mentor, "proposal_declined",
            key=f"proposal_declined:{session.id}:{_proposals(session)}", pair=pair,
            session=session, new_start=new_start,
            link=f"{participant_mail._base_url()}/mentor#upcoming")
    db.session.flush()
    audit.record(actor, "session.proposal_answer", session, programme_id=pair.programme_id,
                 accepted=accept)
    return session
