"""CSV and XLSX exports of a programme: pairs, sessions, logs, JP per person, feedback.

Structured fields only: never a log's notes, topics or a feedback comment (free text the mentee
may have written in confidence). Rows stream from the database (`yield_per`); XLSX uses
openpyxl's write-only workbook so memory stays flat. Text cells that a spreadsheet would read as
a formula are prefixed with an apostrophe (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    Feedback,
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
from .reports import jp_settings

KINDS = ("pairs", "sessions", "logs", "jp", "feedback")
FORMATS = ("csv", "xlsx")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _safe(value: Any) -> Any:
    value = _iso(value)
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def rows(programme: Programme, kind: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """(header, row iterator) of one export."""
    if kind not in KINDS:
        raise ValueError(kind)
    header, stmt, convert = {
        "pairs": _pairs, "sessions": _sessions, "logs": _logs, "jp": _jp,
        "feedback": _feedback,
    }[kind](programme)

    def generate() -> Iterator[tuple[Any, ...]]:
        for row in db.session.execute(stmt.execution_options(yield_per=2000)):
            yield tuple(_safe(v) for v in (convert(row) if convert else row))

    return header, generate()


def _people() -> tuple[Any, Any]:
    return aliased(Person), aliased(Person)


def _pairs(programme: Programme):
    mentor, mentee = _people()
    unit, loc = aliased(Unit), aliased(Location)
    stmt = (
        select(Pair.id, Pair.status, mentor.nip, mentor.name, mentee.nip, mentee.name,
               unit.name, loc.city, Pair.created_at, Pair.ended_at)
        .join(mentor, mentor.id == Pair.mentor_id).join(mentee, mentee.id == Pair.mentee_id)
        .outerjoin(unit, unit.id == mentee.unit_id).outerjoin(loc, loc.id == mentee.location_id)
        .where(Pair.programme_id == programme.id).order_by(Pair.id)
    )
    return (["pair_id", "status", "mentor_nip", "mentor_name", "mentee_nip", "mentee_name",
             "mentee_unit", "mentee_city", "created_at_utc", "ended_at_utc"], stmt, None)


def _sessions(programme: Programme):
    mentor, mentee = _people()
    stmt = (
        select(Session.id, Pair.id, mentor.nip, mentee.nip, Session.start_at, Session.end_at,
               Session.status)
        .join(SessionSeries, SessionSeries.id == Session.series_id)
        .join(Pair, Pair.id == SessionSeries.pair_id)
        .join(mentor, mentor.id == Pair.mentor_id).join(mentee, mentee.id == Pair.mentee_id)
        .where(Pair.programme_id == programme.id).order_by(Session.start_at, Session.id)
    )
    return (["session_id", "pair_id", "mentor_nip", "mentee_nip", "start_utc", "end_utc",
             "status"], stmt, None)


def _logs(programme: Programme):
    mentor, mentee = _people()
    stmt = (
        select(SessionLog.id, Pair.id, SessionLog.session_id, mentor.nip, mentee.nip,
               SessionLog.held_on, SessionLog.duration_minutes, SessionLog.status,
               SessionLog.credited_minutes, SessionLog.confirmed_at)
        .join(Pair, Pair.id == SessionLog.pair_id)
        .join(mentor, mentor.id == Pair.mentor_id).join(mentee, mentee.id == Pair.mentee_id)
        .where(Pair.programme_id == programme.id).order_by(SessionLog.held_on, SessionLog.id)
    )
    return (["log_id", "pair_id", "session_id", "mentor_nip", "mentee_nip", "held_on",
             "duration_minutes", "status", "credited_minutes", "confirmed_at_utc"], stmt, None)


def _jp(programme: Programme):
    """One row per participant and role: confirmed logs and credited minutes of their pairs."""
    minutes_per_jp, target = jp_settings(programme)
    per_pair = (
        select(SessionLog.pair_id.label("pair_id"), func.count(SessionLog.id).label("logs"),
               func.sum(SessionLog.credited_minutes).label("minutes"))
        .where(SessionLog.pair_id.in_(select(Pair.id).where(Pair.programme_id == programme.id)),
               SessionLog.status == "confirmed")
        .group_by(SessionLog.pair_id).subquery()
    )
    sides = union_all(*(
        select(person_col.label("person_id"), literal(role).label("role"),
               per_pair.c.logs, per_pair.c.minutes)
        .join(Pair, Pair.id == per_pair.c.pair_id)
        for role, person_col in (("mentor", Pair.mentor_id), ("mentee", Pair.mentee_id))
    )).subquery()
    credited = (
        select(sides.c.person_id, sides.c.role, func.sum(sides.c.logs).label("logs"),
               func.sum(sides.c.minutes).label("minutes"))
        .group_by(sides.c.person_id, sides.c.role).subquery()
    )
    stmt = (
        select(Person.nip, Person.name, Participant.role, Unit.name, Location.city,
               Person.grade_label, func.coalesce(credited.c.logs, 0),
               func.coalesce(credited.c.minutes, 0))
        .select_from(Participant)
        .join(Person, Person.id == Participant.person_id)
        .outerjoin(Unit, Unit.id == Person.unit_id)
        .outerjoin(Location, Location.id == Person.location_id)
        .outerjoin(credited, (credited.c.person_id == Participant.person_id)
                   & (credited.c.role == Participant.role))
        .where(Participant.programme_id == programme.id)
        .order_by(Participant.role.desc(), Person.name, Person.id)
    )

    def convert(row: Any) -> tuple[Any, ...]:
        nip, name, role, unit, city, grade, logs, minutes = row
        return (nip, name, role, unit, city, grade, int(logs), int(minutes),
                round(int(minutes) / minutes_per_jp, 2), target)

    return (["nip", "name", "role", "unit", "city", "grade", "logs_confirmed",
             "credited_minutes", "jp", "target_jp"], stmt, convert)


def _feedback(programme: Programme):
    author = aliased(Person)
    stmt = (
        select(Feedback.id, SessionLog.id, Pair.id, SessionLog.held_on,
               case((Feedback.author_id == Pair.mentor_id, "mentor"), else_="mentee"),
               author.nip, Feedback.rating, Feedback.created_at)
        .join(SessionLog, SessionLog.id == Feedback.log_id)
        .join(Pair, Pair.id == SessionLog.pair_id)
        .join(author, author.id == Feedback.author_id)
        .where(Pair.programme_id == programme.id).order_by(SessionLog.held_on, Feedback.id)
    )
    return (["feedback_id", "log_id", "pair_id", "held_on", "author_role", "author_nip",
             "rating", "created_at_utc"], stmt, None)


def csv_lines(header: list[str], data: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """CSV text in chunks (UTF-8 with BOM first so Excel opens it right)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    yield "\ufeff"
    writer.writerow(header)
    for i, row in enumerate(data, 1):
        writer.writerow(row)
        if i % 1000 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def xlsx_bytes(sheet: str, header: list[str], data: Iterable[tuple[Any, ...]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append(header)
    for row in data:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export(programme: Programme, kind: str, fmt: str) -> tuple[bytes | Iterator[str], str]:
    """(body, mimetype). CSV is a chunk iterator (stream it); XLSX is bytes."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    header, data = rows(programme, kind)
    if fmt == "csv":
        return csv_lines(header, data), "text/csv; charset=utf-8"
    return (xlsx_bytes(kind, header, data),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
