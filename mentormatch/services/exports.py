"""CSV and XLSX exports of a programme: pairs, sessions, logs, JP per person, feedback,
evaluations.

Structured fields only: never a log's notes or topics, a feedback comment or a free-text
evaluation answer (words a participant may have written in confidence). Rows stream from the
database (`yield_per`); CSV leaves as a stream of chunks, XLSX is built with openpyxl's
write-only workbook so memory stays flat.

Spreadsheet formula injection: in CSV a text cell starting with = + - @ TAB or CR gets a leading
apostrophe (the usual defence; CSV has no cell types). In XLSX such text is written as an
explicit string cell with the quote-prefix style, so "=1+1" shows as text, with no visible
apostrophe. NIPs are text (string cells) in XLSX: 18 digits would lose precision as numbers.

Two audiences. The export for people (the default) speaks the viewer's language: translated
headers and status values, times in the viewer's zone (real date/time cells in XLSX, with a
number format; "dd/mm/yyyy hh:mm" text in CSV), numbers the Indonesian way in CSV text ("2,5"),
and CSV with ";" as delimiter and a UTF-8 BOM, as Excel expects in Indonesia. The machine export
(`audience="machine"`, `?format=machine`) is the stable contract for HR systems: English keys,
status codes, ISO 8601 UTC, "," CSV, "." decimals - it does not change with the language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    ActionItem,
    Competency,
    Evaluation,
    Feedback,
    Location,
    LogCompetency,
    Pair,
    Participant,
    Person,
    Programme,
    Session,
    SessionLog,
    SessionSeries,
    Unit,
)
from . import jp
from .feedback import questions
from .reports import jp_rule

KINDS = ("pairs", "sessions", "logs", "jp", "feedback", "evaluations")
FORMATS = ("csv", "xlsx")
AUDIENCES = ("people", "machine")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"

Table = tuple[list[str], Callable[[], Iterator[tuple[Any, ...]]]]


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return value


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_FORMULA)


def csv_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV only)."""
    return "'" + value if looks_like_formula(value) else value


def _stream(stmt: Select[*tuple[Any, ...]], convert: Callable[[Any], tuple[Any, ...]] | None = None
            ) -> Callable[[], Iterator[tuple[Any, ...]]]:
    def generate() -> Iterator[tuple[Any, ...]]:
        for row in db.session.execute(stmt.execution_options(yield_per=2000)):
            yield tuple(convert(row) if convert else row)

    return generate


def rows(programme: Programme, kind: str, locale: str = "id"
         ) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """(header, row iterator) of one export; values are plain (no injection escaping yet)."""
    if kind not in KINDS:
        raise ValueError(kind)
    header, generate = {
        "pairs": _pairs, "sessions": _sessions, "logs": _logs, "jp": _jp,
        "feedback": _feedback, "evaluations": _evaluations,
    }[kind](programme, locale)
    return header, generate()


def _people() -> tuple[Any, Any]:
    return aliased(Person), aliased(Person)


def _pairs(programme: Programme, locale: str) -> Table:
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
             "mentee_unit", "mentee_city", "created_at_utc", "ended_at_utc"], _stream(stmt))


def _sessions(programme: Programme, locale: str) -> Table:
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
             "status"], _stream(stmt))


def _string_agg(column: Any) -> Any:
    if db.session.get_bind().dialect.name == "postgresql":
        return func.string_agg(column, ";")
    return func.group_concat(column, ";")


def _logs(programme: Programme, locale: str) -> Table:
    """Structured fields of each log: competencies practised (names), action items (count and
    still open), who confirmed it and when, credited minutes. Never topics or notes."""
    mentor, mentee, confirmer = aliased(Person), aliased(Person), aliased(Person)
    logs_here = SessionLog.pair_id.in_(select(Pair.id).where(Pair.programme_id == programme.id))
    comps = (
        select(LogCompetency.log_id.label("log_id"), _string_agg(Competency.code).label("codes"))
        .join(Competency, Competency.id == LogCompetency.competency_id)
        .where(LogCompetency.log_id.in_(select(SessionLog.id).where(logs_here)))
        .group_by(LogCompetency.log_id).subquery()
    )
    items = (
        select(ActionItem.log_id.label("log_id"), func.count(ActionItem.id).label("n"),
               func.sum(case((ActionItem.done.is_(False), 1), else_=0)).label("open"))
        .where(ActionItem.log_id.in_(select(SessionLog.id).where(logs_here)))
        .group_by(ActionItem.log_id).subquery()
    )
    stmt = (
        select(SessionLog.id, Pair.id, SessionLog.session_id, mentor.nip, mentee.nip,
               SessionLog.held_on, SessionLog.duration_minutes, SessionLog.status,
               SessionLog.credited_minutes, comps.c.codes, func.coalesce(items.c.n, 0),
               func.coalesce(items.c.open, 0), confirmer.nip, confirmer.name,
               SessionLog.confirmed_at)
        .join(Pair, Pair.id == SessionLog.pair_id)
        .join(mentor, mentor.id == Pair.mentor_id).join(mentee, mentee.id == Pair.mentee_id)
        .outerjoin(confirmer, confirmer.id == SessionLog.confirmed_by_id)
        .outerjoin(comps, comps.c.log_id == SessionLog.id)
        .outerjoin(items, items.c.log_id == SessionLog.id)
        .where(Pair.programme_id == programme.id).order_by(SessionLog.held_on, SessionLog.id)
    )
    names = {c.code: c.name(locale) for c in db.session.scalars(select(Competency))}
    minutes_per_jp = Decimal(jp_rule(programme).minutes_per_jp)

    def convert(row: Any) -> tuple[Any, ...]:
        (log_id, pair_id, session_id, mentor_nip, mentee_nip, held_on, duration, status,
         minutes, codes, n_items, n_open, by_nip, by_name, confirmed_at) = row
        practised = "; ".join(sorted(names.get(c, c) for c in (codes or "").split(";") if c))
        share = (Decimal(int(minutes or 0)) / minutes_per_jp).quantize(Decimal("0.01"))
        return (log_id, pair_id, session_id, mentor_nip, mentee_nip, held_on, duration, status,
                int(minutes or 0), share, practised, int(n_items), int(n_open or 0), by_nip,
                by_name, confirmed_at)

    return (["log_id", "pair_id", "session_id", "mentor_nip", "mentee_nip", "held_on",
             "duration_minutes", "status", "credited_minutes", "jp_unrounded",
             "competencies_practised", "action_items", "action_items_open", "confirmed_by_nip",
             "confirmed_by_name", "confirmed_at_utc"], _stream(stmt, convert))


def _jp(programme: Programme, locale: str) -> Table:
    """One row per person of the programme (participants, and anyone with a pair in it): the
    JP of `jp.people_jp` for this programme, i.e. what their certificate shows."""
    pid = programme.id
    roles: dict[int, set[str]] = {}
    for person_id, role in db.session.execute(
            select(Participant.person_id, Participant.role).where(Participant.programme_id == pid)):
        roles.setdefault(person_id, set()).add(role)
    for mentor_id, mentee_id in db.session.execute(
            select(Pair.mentor_id, Pair.mentee_id).where(Pair.programme_id == pid)):
        roles.setdefault(mentor_id, set()).add("mentor")
        roles.setdefault(mentee_id, set()).add("mentee")
    tally = jp.people_jp(programme_id=pid)
    rule = jp_rule(programme)
    stmt = (
        select(Person.id, Person.nip, Person.name, Unit.name, Location.city, Person.grade_label)
        .outerjoin(Unit, Unit.id == Person.unit_id)
        .outerjoin(Location, Location.id == Person.location_id)
        .where(or_(Person.id.in_(select(Participant.person_id)
                                 .where(Participant.programme_id == pid)),
                   Person.id.in_(select(Pair.mentor_id).where(Pair.programme_id == pid)),
                   Person.id.in_(select(Pair.mentee_id).where(Pair.programme_id == pid))))
        .order_by(Person.name, Person.id)
    )

    def convert(row: Any) -> tuple[Any, ...]:
        person_id, nip, name, unit, city, grade = row
        mine = tally.get(person_id)
        return (nip, name, ", ".join(sorted(roles.get(person_id, ()))), unit, city, grade,
                mine.sessions if mine else 0, mine.minutes if mine else 0,
                mine.jp if mine else Decimal(0), rule.yearly_target_jp)

    return (["nip", "name", "roles", "unit", "city", "grade", "logs_confirmed",
             "credited_minutes", "jp", "target_jp"], _stream(stmt, convert))


def _feedback(programme: Programme, locale: str) -> Table:
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
             "rating", "created_at_utc"], _stream(stmt))


def _evaluations(programme: Programme, locale: str) -> Table:
    """One row per mid / end evaluation with its numeric (rating) answers, one column per
    question key; free-text answers are left out."""
    keys = [q.key for q in questions() if q.kind == "rating"]
    author, mentor, mentee = aliased(Person), aliased(Person), aliased(Person)
    stmt = (
        select(Evaluation.id, Pair.id, Evaluation.stage,
               case((Evaluation.author_id == Pair.mentor_id, "mentor"), else_="mentee"),
               author.nip, mentor.nip, mentee.nip, Evaluation.submitted_at, Evaluation.answers)
        .join(Pair, Pair.id == Evaluation.pair_id)
        .join(author, author.id == Evaluation.author_id)
        .join(mentor, mentor.id == Pair.mentor_id).join(mentee, mentee.id == Pair.mentee_id)
        .where(Pair.programme_id == programme.id).order_by(Evaluation.submitted_at, Evaluation.id)
    )

    def convert(row: Any) -> tuple[Any, ...]:
        *head, answers = row
        values = []
        for key in keys:
            value = (answers or {}).get(key)
            values.append(value if isinstance(value, int | float)
                          and not isinstance(value, bool) else None)
        return (*head, *values)

    return (["evaluation_id", "pair_id", "stage", "author_role", "author_nip", "mentor_nip",
             "mentee_nip", "submitted_at_utc", *keys], _stream(stmt, convert))


# ---------------------------------------------------------------- for people

_ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
# machine key -> (people header, kind of value)
_COLUMNS: dict[str, tuple[Any, str]] = {
    "pair_id": (_l("Pair no."), "id"), "session_id": (_l("Session no."), "id"),
    "log_id": (_l("Log no."), "id"), "feedback_id": (_l("Feedback no."), "id"),
    "evaluation_id": (_l("Evaluation no."), "id"),
    "status": (_l("Status"), "status"),
    "mentor_nip": (_l("Mentor NIP"), "text"), "mentor_name": (_l("Mentor name"), "text"),
    "mentee_nip": (_l("Mentee NIP"), "text"), "mentee_name": (_l("Mentee name"), "text"),
    "mentee_unit": (_l("Mentee unit"), "text"), "mentee_city": (_l("Mentee city"), "text"),
    "created_at_utc": (_l("Created"), "time"), "ended_at_utc": (_l("Ended"), "time"),
    "start_utc": (_l("Start"), "time"), "end_utc": (_l("End"), "time"),
    "held_on": (_l("Date held"), "date"), "duration_minutes": (_l("Duration (minutes)"), "num"),
    "credited_minutes": (_l("Credited minutes"), "num"),
    # JP are stated for totals only (the one rounding rule): people see a log's minutes
    "jp_unrounded": (_l("JP (unrounded)"), "machine"),
    "competencies_practised": (_l("Competencies practised"), "text"),
    "action_items": (_l("Action items"), "num"),
    "action_items_open": (_l("Open action items"), "num"),
    "confirmed_by_nip": (_l("Confirmed by (NIP)"), "text"),
    "confirmed_by_name": (_l("Confirmed by"), "text"),
    "confirmed_at_utc": (_l("Confirmed at"), "time"),
    "nip": (_l("NIP"), "text"), "name": (_l("Name"), "text"), "roles": (_l("Roles"), "roles"),
    "unit": (_l("Unit"), "text"), "city": (_l("City"), "text"), "grade": (_l("Grade"), "text"),
    "logs_confirmed": (_l("Confirmed logs"), "num"), "jp": (_l("JP"), "num"),
    "target_jp": (_l("JP target"), "num"),
    "author_role": (_l("Written by"), "roles"), "author_nip": (_l("Author NIP"), "text"),
    "rating": (_l("Rating"), "num"),
    "stage": (_l("Stage"), "stage"), "submitted_at_utc": (_l("Submitted"), "time"),
}


def _status_label(value: str) -> str:
    """The one label table of the states an export shows (pairs, sessions, logs)."""
    labels = {
        "invited": _("Invited"), "active": _("Active"), "declined": _("Declined"),
        "ended": _("Ended early"), "completed": _("Completed"),
        "scheduled": _("Planned"), "held": _("Held"), "missed": _("Missed"),
        "not_held": _("Not held"), "cancelled": _("Cancelled"),
        "submitted": _("Awaiting confirmation"), "confirmed": _("Confirmed"),
        "rejected": _("Rejected"),
    }
    return str(labels.get(value, value))


def _role_label(value: str) -> str:
    names = {"mentor": _("mentor"), "mentee": _("mentee")}
    return ", ".join(names.get(v.strip(), v.strip()) for v in value.split(",") if v.strip())


def _stage_label(value: str) -> str:
    return str({"mid": _("Mid-programme"), "end": _("End of programme")}.get(value, value))


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    """A stored UTC instant as the wall-clock time in `zone` (naive: spreadsheets have no zones)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).replace(tzinfo=None)


class _People:
    """Turns machine rows into rows for people: labels, local times, Indonesian numbers."""

    def __init__(self, header: list[str], locale: str, zone: str, for_csv: bool) -> None:
        # columns not in the table are the evaluations' rating questions: numbers;
        # "machine" columns are for HR systems only
        kinds = [_COLUMNS[key][1] if key in _COLUMNS else "num" for key in header]
        self.keep = [i for i, kind in enumerate(kinds) if kind != "machine"]
        header = [header[i] for i in self.keep]
        self.kinds = [kinds[i] for i in self.keep]
        self.locale, self.zone, self.for_csv = locale, ZoneInfo(zone), for_csv
        zone_label = _ZONE_NAMES.get(zone, zone)
        asked = {q.key: q.text(locale) for q in questions()}
        self.header = []
        for key in header:
            if key not in _COLUMNS:
                self.header.append(asked.get(key, key))
            elif _COLUMNS[key][1] == "time":
                self.header.append(f"{_COLUMNS[key][0]} ({zone_label})")
            else:
                self.header.append(str(_COLUMNS[key][0]))

    def number(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return value
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        if not self.for_csv:
            return float(value) if isinstance(value, Decimal) else value
        return format_decimal(value, locale=self.locale)

    def row(self, values: tuple[Any, ...]) -> list[Any]:
        out: list[Any] = []
        for kind, value in zip(self.kinds, [values[i] for i in self.keep], strict=True):
            if value is None:
                out.append(None)
            elif kind == "time" and isinstance(value, datetime):
                local = _local(value, self.zone)
                out.append(local.strftime("%d/%m/%Y %H:%M") if self.for_csv else local)
            elif kind == "date" and isinstance(value, date):
                out.append(value.strftime("%d/%m/%Y") if self.for_csv else value)
            elif kind == "status":
                out.append(_status_label(str(value)))
            elif kind == "roles":
                out.append(_role_label(str(value)))
            elif kind == "stage":
                out.append(_stage_label(str(value)))
            elif kind == "num":
                out.append(self.number(value))
            else:
                out.append(value)
        return out


# ---------------------------------------------------------------- writers

def csv_lines(header: list[str], data: Iterable[Sequence[Any]],
              delimiter: str = ",") -> Iterator[str]:
    """CSV text in chunks (UTF-8 with BOM first so Excel opens it right)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    yield "\ufeff"
    writer.writerow(header)
    for i, row in enumerate(data, 1):
        writer.writerow([csv_safe(v) for v in row])
        if i % 1000 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


_XLSX_FORMATS = {"time": "dd/mm/yyyy hh:mm", "date": "dd/mm/yyyy"}


def xlsx_bytes(sheet: str, header: list[str], data: Iterable[Sequence[Any]],
               kinds: list[str] | None = None) -> bytes:
    """`kinds` (people exports) gives date and time columns their number format."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append(header)
    formats = [_XLSX_FORMATS.get(k) for k in kinds] if kinds else None

    def text_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # a string, although it starts with "=" (never a formula)
        cell.quotePrefix = True  # and Excel keeps it text when edited; no apostrophe shown
        return cell

    def dated(value: Any, number_format: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = number_format
        return cell

    for row in data:
        cells = []
        for i, v in enumerate(row):
            if looks_like_formula(v):
                cells.append(text_cell(v))
            elif formats and (fmt_i := formats[i]) and isinstance(v, date):
                cells.append(dated(v, fmt_i))
            else:
                cells.append(v)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export(programme: Programme, kind: str, fmt: str, locale: str = "id", *,
           audience: str = "people", zone: str = "Asia/Jakarta"
           ) -> tuple[bytes | Iterator[str], str]:
    """(body, mimetype). CSV is a chunk iterator (stream it); XLSX is bytes. `audience`
    "people" (translated, local `zone`, ";" CSV) or "machine" (stable keys, ISO UTC)."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    if audience not in AUDIENCES:
        raise ValueError(audience)
    header, data = rows(programme, kind, locale)
    if audience == "machine":
        plain = (tuple(_iso(v) for v in row) for row in data)
        if fmt == "csv":
            return csv_lines(header, plain), CSV_MIME
        return xlsx_bytes(kind, header, plain), XLSX_MIME
    with force_locale(locale):
        people = _People(header, locale, zone, for_csv=fmt == "csv")

    def converted() -> Iterator[list[Any]]:
        with force_locale(locale):
            for row in data:
                yield people.row(row)

    if fmt == "csv":
        return csv_lines(people.header, converted(), delimiter=";"), CSV_MIME
    return xlsx_bytes(kind, people.header, converted(), people.kinds), XLSX_MIME
