"""Participation alerts: lists (paged, filtered by unit and city) of pairs with no recent
session, mentees behind JP pace, unanswered invitations and mentors over capacity."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import (
    Attendee,
    Location,
    Pair,
    Participant,
    Person,
    Programme,
    Session,
    SessionLog,
    SessionSeries,
    Unit,
)
from .. import jp
from .common import (
    ALERT_KINDS,
    LIVE_PAIR,
    MATCHED_PAIR,
    chase_after_days,
    clock,
    credited_jp,
    jp_rule,
    local_zone,
    report_settings,
    yearly_target_jp,
)

# ---------------------------------------------------------------- alerts

#: a SELECT of any columns
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class AlertFilter:
    """Narrows an alert list to the subject's unit and/or city (the mentee of a pair, the
    mentee behind pace, the invitee, the mentor over capacity)."""

    unit_id: int | None = None
    city: str | None = None
    person_ids: frozenset[int] | None = None  # only rows reminding one of these people


@dataclass(frozen=True)
class AlertRow:
    person_ids: tuple[int, ...]  # who a nudge goes to
    cells: dict[str, Any]


@dataclass
class AlertPage:
    rows: list[AlertRow]
    total: int
    page: int
    pages: int
    page_size: int
    extra: dict[str, Any] = field(default_factory=dict)


def _now(now: datetime | None) -> datetime:
    return clock(now)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _local_date(value: datetime) -> str:
    """The date a coordinator reads: in the deployment's zone, not UTC."""
    return _aware(value).astimezone(local_zone()).date().isoformat()


def _filtered(stmt: AnySelect, subject: Any, flt: AlertFilter | None,
              recipients: Iterable[Any]) -> AnySelect:
    if flt is None:
        return stmt
    if flt.unit_id is not None:
        stmt = stmt.where(subject.unit_id == flt.unit_id)
    if flt.city:
        stmt = stmt.where(subject.location_id.in_(
            select(Location.id).where(Location.city == flt.city)))
    if flt.person_ids is not None:
        ids = list(flt.person_ids)
        stmt = stmt.where(or_(*(col.in_(ids) for col in recipients)))
    return stmt


def _last_held() -> Any:
    return (select(SessionSeries.pair_id.label("pair_id"),
                   func.max(Session.start_at).label("last_held"))
            .join(Session, Session.series_id == SessionSeries.id)
            .where(Session.status == "held").group_by(SessionSeries.pair_id).subquery())


def _no_session_stmt(programme: Programme, days: int, now: datetime,
                     flt: AlertFilter | None) -> AnySelect:
    """Active pairs whose last held session (with none: their creation) is older than `days`."""
    last = _last_held()
    mentor, mentee = aliased(Person), aliased(Person)
    since = func.coalesce(last.c.last_held, Pair.created_at)
    stmt = (
        select(Pair.id, Pair.created_at, last.c.last_held, mentor.id, mentor.name,
               mentee.id, mentee.name)
        .join(mentor, mentor.id == Pair.mentor_id).join(mentee, mentee.id == Pair.mentee_id)
        .outerjoin(last, last.c.pair_id == Pair.id)
        .where(Pair.programme_id == programme.id, Pair.status == "active",
               since < now - timedelta(days=days))
        .order_by(since, Pair.id)
    )
    return _filtered(stmt, mentee, flt, (mentee.id, mentor.id))


def _no_session_row(row: Any, now: datetime) -> AlertRow:
    pair_id, created, last_held, mid, mname, eid, ename = row
    since = _aware(last_held or created)
    return AlertRow((eid, mid), {
        "pair_id": pair_id, "mentor": mname, "mentee": ename, "mentor_id": mid,
        "mentee_id": eid,
        "last_held": _local_date(last_held) if last_held else None,
        "days": (now - since).days,
    })


def pace_target_jp(programme: Programme, today: date) -> float:
    """JP a mentee should have by `today`: the yearly target pro rata over the programme's
    run (a programme shorter than a year aims at the full yearly target)."""
    span = max(1, (programme.end_date - programme.start_date).days)
    elapsed = min(max(0, (today - programme.start_date).days), span)
    return yearly_target_jp(programme) * elapsed / span


def _behind_jp_stmt(programme: Programme, days: int, now: datetime,
                    flt: AlertFilter | None, count_only: bool = False) -> AnySelect | None:
    """Matched mentees (active participants with an invited / active / completed pair) whose
    credited minutes are under `pace_tolerance` of the pro-rata target. Unmatched mentees are
    not behind pace: the dashboard shows them as unmatched."""
    expected_jp = pace_target_jp(programme, now.astimezone(local_zone()).date())
    if expected_jp <= 0:
        return None
    # in minutes, so the database compares sums without rounding anything
    bar = expected_jp * jp_rule(programme).minutes_per_jp * report_settings().pace_tolerance
    pid = programme.id
    credited = (select(Pair.mentee_id.label("person_id"),
                       func.sum(SessionLog.credited_minutes).label("minutes"))
                .join(SessionLog, SessionLog.pair_id == Pair.id)
                .where(Pair.programme_id == pid, SessionLog.status == "confirmed")
                .group_by(Pair.mentee_id).subquery())
    minutes = func.coalesce(credited.c.minutes, 0)
    # plain (uncorrelated) subqueries: the database builds each once, never once per mentee
    live = (select(Pair.mentee_id.label("person_id"), func.max(Pair.id).label("pair_id"))
            .where(Pair.programme_id == pid, Pair.status.in_(LIVE_PAIR))
            .group_by(Pair.mentee_id).subquery())
    matched = select(Pair.mentee_id).where(Pair.programme_id == pid,
                                           Pair.status.in_(MATCHED_PAIR))
    where = (Participant.programme_id == pid, Participant.role == "mentee",
             Participant.active.is_(True), Person.id.in_(matched), minutes < bar)
    if count_only:  # the dashboard's count needs neither the log link nor an order
        stmt = (select(Person.id).join(Participant, Participant.person_id == Person.id)
                .outerjoin(credited, credited.c.person_id == Person.id).where(*where))
        return _filtered(stmt, Person, flt, (Person.id,))
    stmt = (
        select(Person.id, Person.name, Person.nip, minutes, live.c.pair_id)
        .join(Participant, Participant.person_id == Person.id)
        .outerjoin(credited, credited.c.person_id == Person.id)
        .outerjoin(live, live.c.person_id == Person.id)
        .where(*where).order_by(minutes, Person.name, Person.id)
    )
    return _filtered(stmt, Person, flt, (Person.id,))


def _behind_jp_row(programme: Programme, now: datetime) -> Callable[[Any], AlertRow]:
    rule = jp_rule(programme)
    expected = round(pace_target_jp(programme, now.astimezone(local_zone()).date()), 1)
    target = yearly_target_jp(programme)

    @cache
    def programme_jp() -> dict[int, float]:
        """The programme's JP by the one rule (rounded per calendar year, then summed), read
        once for the whole programme the first time a row needs it."""
        return {pid: float(pj.jp)
                for pid, pj in jp.people_jp(None, programme_id=programme.id).items()}

    def jp_of(person_id: int, minutes: float) -> float:
        return programme_jp().get(person_id, credited_jp(minutes, rule))

    def convert(row: Any) -> AlertRow:
        person_id, name, nip, minutes, pair_id = row
        return AlertRow((person_id,), {
            "person": name, "nip": nip, "minutes": int(minutes or 0),
            "jp": jp_of(person_id, minutes or 0),
            "expected_jp": expected, "target_jp": target,
            "pair_id": pair_id})

    return convert


def _unanswered_stmt(programme: Programme, days: int, now: datetime,
                     flt: AlertFilter | None) -> AnySelect:
    """Invitations of live series still unanswered after `[scheduler] chase_after_days`."""
    stmt = (
        select(Attendee.id, Attendee.person_id, Person.name, Attendee.role, Attendee.invited_at,
               Pair.id, SessionSeries.id)
        .join(Person, Person.id == Attendee.person_id)
        .join(SessionSeries, SessionSeries.id == Attendee.series_id)
        .join(Pair, Pair.id == SessionSeries.pair_id)
        .where(Pair.programme_id == programme.id, Attendee.partstat == "NEEDS-ACTION",
               Attendee.invited_at <= now - timedelta(days=chase_after_days()),
               SessionSeries.status == "active", Pair.status.in_(LIVE_PAIR))
        .order_by(Attendee.invited_at, Attendee.id)
    )
    return _filtered(stmt, Person, flt, (Attendee.person_id,))


def _unanswered_row(row: Any, now: datetime) -> AlertRow:
    att_id, person_id, name, role, invited, pair_id, series_id = row
    invited = _aware(invited)
    return AlertRow((person_id,), {"attendee_id": att_id, "person": name, "role": role,
                                   "pair_id": pair_id, "series_id": series_id,
                                   "invited": _local_date(invited),
                                   "days": (now - invited).days})


def _over_capacity_stmt(programme: Programme, days: int, now: datetime,
                        flt: AlertFilter | None) -> AnySelect:
    live = (select(Pair.mentor_id.label("mentor_id"), func.count(Pair.id).label("n"))
            .where(Pair.programme_id == programme.id, Pair.status.in_(LIVE_PAIR))
            .group_by(Pair.mentor_id).subquery())
    capacity = func.coalesce(Participant.capacity, programme.default_capacity)
    stmt = (
        select(Person.id, Person.name, live.c.n, capacity)
        .join(Participant, Participant.person_id == Person.id)
        .join(live, live.c.mentor_id == Person.id)
        .where(Participant.programme_id == programme.id, Participant.role == "mentor",
               live.c.n > capacity)
        .order_by(Person.name, Person.id)
    )
    return _filtered(stmt, Person, flt, (Person.id,))


def _over_capacity_row(row: Any, now: datetime) -> AlertRow:
    person_id, name, n, cap = row
    return AlertRow((person_id,), {"person": name, "pairs": n, "capacity": cap})


def _alert(programme: Programme, kind: str, days: int, now: datetime,
           flt: AlertFilter | None, count_only: bool = False) -> tuple[AnySelect | None, Any]:
    if kind not in ALERT_KINDS:
        raise ValueError(kind)
    if kind == "behind_jp":
        return (_behind_jp_stmt(programme, days, now, flt, count_only),
                _behind_jp_row(programme, now))
    build, convert = {"no_session": (_no_session_stmt, _no_session_row),
                      "unanswered": (_unanswered_stmt, _unanswered_row),
                      "over_capacity": (_over_capacity_stmt, _over_capacity_row)}[kind]
    return build(programme, days, now, flt), (lambda row: convert(row, now))


def alert_rows(programme: Programme, kind: str, *, days: int = 30, now: datetime | None = None,
               flt: AlertFilter | None = None, limit: int | None = None,
               offset: int = 0) -> list[AlertRow]:
    """The rows of one alert list (all of them, or one slice)."""
    stmt, convert = _alert(programme, kind, days, _now(now), flt)
    if stmt is None:
        return []
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [convert(row) for row in db.session.execute(stmt)]


def alert_count(programme: Programme, kind: str, *, days: int = 30,
                now: datetime | None = None, flt: AlertFilter | None = None) -> int:
    stmt, _ = _alert(programme, kind, days, _now(now), flt, count_only=True)
    if stmt is None:
        return 0
    return db.session.scalar(
        select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def alert_page(programme: Programme, kind: str, *, page: int = 1, days: int = 30,
               now: datetime | None = None, flt: AlertFilter | None = None) -> AlertPage:
    size = max(1, report_settings().page_size)
    total = alert_count(programme, kind, days=days, now=now, flt=flt)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = alert_rows(programme, kind, days=days, now=now, flt=flt, limit=size,
                      offset=(page - 1) * size)
    return AlertPage(rows=rows, total=total, page=page, pages=pages, page_size=size)


def alerts_summary(programme: Programme, now: datetime | None = None) -> dict[str, int]:
    """How many rows each alert list has; one count query per list, the no-session lists
    (30 and 45 days) from one pass."""
    now = _now(now)
    last = _last_held()
    since = func.coalesce(last.c.last_held, Pair.created_at)
    n30, n45 = db.session.execute(
        select(func.sum(case((since < now - timedelta(days=30), 1), else_=0)),
               func.sum(case((since < now - timedelta(days=45), 1), else_=0)))
        .select_from(Pair).outerjoin(last, last.c.pair_id == Pair.id)
        .where(Pair.programme_id == programme.id, Pair.status == "active")
    ).one()
    return {
        "no_session_30": int(n30 or 0), "no_session_45": int(n45 or 0),
        "behind_jp": alert_count(programme, "behind_jp", now=now),
        "unanswered": alert_count(programme, "unanswered", now=now),
        "over_capacity": alert_count(programme, "over_capacity", now=now),
    }


def filter_options(programme: Programme) -> dict[str, list[Any]]:
    """Units (id, name) and cities of the programme's participants, for the alert filters."""
    people = select(Participant.person_id).where(Participant.programme_id == programme.id)
    units = db.session.execute(
        select(Unit.id, Unit.name).join(Person, Person.unit_id == Unit.id)
        .where(Person.id.in_(people)).distinct().order_by(Unit.name)).all()
    cities = db.session.scalars(
        select(Location.city).join(Person, Person.location_id == Location.id)
        .where(Person.id.in_(people)).distinct().order_by(Location.city)).all()
    return {"units": [(uid, name) for uid, name in units], "cities": list(cities)}
