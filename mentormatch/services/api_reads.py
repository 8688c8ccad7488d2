"""Read models of the REST API: paged, filtered by date, unit and programme, as plain dicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    LogCompetency,
    Pair,
    Person,
    Programme,
    Session,
    SessionLog,
    SessionSeries,
    Unit,
)
from . import jp, reports


@dataclass(frozen=True)
class Filters:
    page: int = 1
    per_page: int = 100
    date_from: date | None = None
    date_to: date | None = None
    unit: str | None = None
    programme_id: int | None = None


def _page(stmt: Select[*tuple[Any, ...]], flt: Filters) -> tuple[list[Any], int]:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.limit(flt.per_page).offset((flt.page - 1) * flt.per_page))
    return list(rows), int(total or 0)


def _envelope(items: list[dict[str, Any]], total: int, flt: Filters) -> dict[str, Any]:
    return {"items": items, "page": flt.page, "per_page": flt.per_page, "total": total}


def _unit_ids(name: str) -> Select[*tuple[Any, ...]]:
    return select(Unit.id).where(func.lower(Unit.name) == name.strip().lower())


def _start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def people(flt: Filters, nip: str | None = None) -> dict[str, Any]:
    stmt = select(Person).order_by(Person.id)
    if flt.unit:
        stmt = stmt.where(Person.unit_id.in_(_unit_ids(flt.unit)))
    if nip:
        stmt = stmt.where(Person.nip == nip)
    rows, total = _page(stmt, flt)
    items = [{
        "id": p.id, "nip": p.nip, "name": p.name, "email": p.email, "kind": p.kind,
        "grade": p.grade_label, "position": p.position, "job_level": p.job_level,
        "unit": p.unit.name if p.unit else None,
        "location": p.location.name if p.location else None, "active": p.active,
    } for (p,) in rows]
    return _envelope(items, total, flt)


def programmes(flt: Filters) -> dict[str, Any]:
    stmt = select(Programme, Unit.name).outerjoin(Unit, Unit.id == Programme.unit_id)
    if flt.date_from:
        stmt = stmt.where(Programme.end_date >= flt.date_from)
    if flt.date_to:
        stmt = stmt.where(Programme.start_date <= flt.date_to)
    if flt.unit:
        stmt = stmt.where(func.lower(Unit.name) == flt.unit.strip().lower())
    if flt.programme_id:
        stmt = stmt.where(Programme.id == flt.programme_id)
    rows, total = _page(stmt.order_by(Programme.id), flt)
    items = [{
        "id": p.id, "name": p.name, "unit": unit, "start_date": p.start_date,
        "end_date": p.end_date, "status": p.status, "session_minutes": p.session_minutes,
        "session_count": p.session_count, "interval_weeks": p.interval_weeks,
    } for p, unit in rows]
    return _envelope(items, total, flt)


def _ref(p: Person, units: dict[int, str]) -> dict[str, Any]:
    return {"id": p.id, "nip": p.nip, "name": p.name, "unit": units.get(p.unit_id or 0)}


def _unit_names() -> dict[int, str]:
    return dict(db.session.execute(select(Unit.id, Unit.name)).all())


def pairs(flt: Filters) -> dict[str, Any]:
    mentor, mentee = aliased(Person), aliased(Person)
    stmt = (select(Pair, mentor, mentee).join(mentor, mentor.id == Pair.mentor_id)
            .join(mentee, mentee.id == Pair.mentee_id))
    if flt.date_from:
        stmt = stmt.where(Pair.created_at >= _start(flt.date_from))
    if flt.date_to:
        stmt = stmt.where(Pair.created_at < _start(flt.date_to + timedelta(days=1)))
    if flt.unit:
        stmt = stmt.where(mentee.unit_id.in_(_unit_ids(flt.unit)))
    if flt.programme_id:
        stmt = stmt.where(Pair.programme_id == flt.programme_id)
    rows, total = _page(stmt.order_by(Pair.id), flt)
    units = _unit_names()
    items = [{
        "id": p.id, "programme_id": p.programme_id, "status": p.status,
        "mentor": _ref(mr, units), "mentee": _ref(me, units), "focus": list(p.focus or []),
        "mode": p.mode, "created_at": p.created_at,
    } for p, mr, me in rows]
    return _envelope(items, total, flt)


def sessions(flt: Filters) -> dict[str, Any]:
    stmt = (select(Session.id, SessionSeries.pair_id, Pair.programme_id, Session.start_at,
                   Session.end_at, Session.status)
            .join(SessionSeries, SessionSeries.id == Session.series_id)
            .join(Pair, Pair.id == SessionSeries.pair_id))
    if flt.date_from:
        stmt = stmt.where(Session.start_at >= _start(flt.date_from))
    if flt.date_to:
        stmt = stmt.where(Session.start_at < _start(flt.date_to + timedelta(days=1)))
    if flt.unit:
        mentee = aliased(Person)
        stmt = stmt.join(mentee, mentee.id == Pair.mentee_id).where(
            mentee.unit_id.in_(_unit_ids(flt.unit)))
    if flt.programme_id:
        stmt = stmt.where(Pair.programme_id == flt.programme_id)
    rows, total = _page(stmt.order_by(Session.id), flt)
    items = [{"id": sid, "pair_id": pair_id, "programme_id": prog, "start_at": start,
              "end_at": end, "status": status}
             for sid, pair_id, prog, start, end, status in rows]
    return _envelope(items, total, flt)


def confirmed_logs(flt: Filters) -> dict[str, Any]:
    mentor, mentee = aliased(Person), aliased(Person)
    stmt = (select(SessionLog, Pair.programme_id, mentor.nip, mentee.nip)
            .join(Pair, Pair.id == SessionLog.pair_id)
            .join(mentor, mentor.id == Pair.mentor_id)
            .join(mentee, mentee.id == Pair.mentee_id)
            .where(SessionLog.status == "confirmed"))
    if flt.date_from:
        stmt = stmt.where(SessionLog.held_on >= flt.date_from)
    if flt.date_to:
        stmt = stmt.where(SessionLog.held_on <= flt.date_to)
    if flt.unit:
        stmt = stmt.where(mentee.unit_id.in_(_unit_ids(flt.unit)))
    if flt.programme_id:
        stmt = stmt.where(Pair.programme_id == flt.programme_id)
    rows, total = _page(stmt.order_by(SessionLog.id), flt)
    ids = [log.id for log, *_ in rows]
    comps: dict[int, list[str]] = {}
    if ids:
        from ..models import Competency

        for log_id, code in db.session.execute(
                select(LogCompetency.log_id, Competency.code)
                .join(Competency, Competency.id == LogCompetency.competency_id)
                .where(LogCompetency.log_id.in_(ids)).order_by(Competency.code)):
            comps.setdefault(log_id, []).append(code)
    items = [{
        "id": log.id, "pair_id": log.pair_id, "programme_id": prog,
        "session_id": log.session_id, "held_on": log.held_on,
        "duration_minutes": log.duration_minutes, "credited_minutes": log.credited_minutes,
        "confirmed_at": log.confirmed_at, "mentor_nip": mr_nip, "mentee_nip": me_nip,
        "competencies": comps.get(log.id, []),
    } for log, prog, mr_nip, me_nip in rows]
    return _envelope(items, total, flt)


def jp_per_person(year: int, flt: Filters, nip: str | None = None) -> dict[str, Any]:
    """JP credited per person in a calendar year: what an HR office reports to SIASN."""
    stmt = select(Person.id).order_by(Person.id)
    if nip:
        stmt = stmt.where(Person.nip == nip)
    if flt.unit:
        stmt = stmt.where(Person.unit_id.in_(_unit_ids(flt.unit)))
    # Everyone in a pair (as mentor or mentee) that year, then filtered and paged.
    everyone = jp.people_jp(None, year=year)
    wanted = [pid for (pid,) in db.session.execute(stmt) if pid in everyone]
    total = len(wanted)
    page_ids = wanted[(flt.page - 1) * flt.per_page: flt.page * flt.per_page]
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(page_ids)))}
    items = []
    for pid in page_ids:
        row, person = everyone[pid], people[pid]
        items.append({
            "person_id": pid, "nip": person.nip, "name": person.name,
            "unit": person.unit.name if person.unit else None, "year": year,
            "minutes": row.minutes, "sessions": row.sessions, "jp": row.jp,
            "target_jp": row.target,
            "programmes": [{"programme_id": p.programme_id, "minutes": p.minutes,
                            "sessions": p.sessions, "jp": p.jp} for p in row.programmes],
        })
    return _envelope(items, total, flt)


def dashboard(programme_id: int) -> dict[str, Any] | None:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        return None
    figures = reports.dashboard(programme)
    return {"programme_id": programme.id, **figures}
