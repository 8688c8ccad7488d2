"""Marshmallow schemas of /api/v1: they validate input and are the OpenAPI description."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

MAX_PAGE = 500


class PageArgs(ma.Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE),
                              metadata={"description": f"Rows per page (at most {MAX_PAGE})."})


class FilterArgs(PageArgs):
    date_from = fields.Date(data_key="from", metadata={
        "description": "First day included (YYYY-MM-DD)."})
    date_to = fields.Date(data_key="to", metadata={"description": "Last day included."})
    unit = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "Unit kerja name, exact (case-insensitive)."})
    programme_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class PeopleArgs(PageArgs):
    unit = fields.String(validate=validate.Length(min=1, max=200))
    nip = fields.String(validate=validate.Length(min=1, max=18))


class JpArgs(PageArgs):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    nip = fields.String(validate=validate.Length(min=1, max=18))
    unit = fields.String(validate=validate.Length(min=1, max=200))


class DashboardArgs(ma.Schema):
    programme_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


def _page_schema(name: str, item: type[ma.Schema]) -> type[ma.Schema]:
    return type(name, (ma.Schema,), {
        "items": fields.List(fields.Nested(item), required=True),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
        "total": fields.Integer(required=True),
    })


_text: dict[str, Any] = {"allow_none": True, "validate": validate.Length(max=500)}


class CompetencyIn(ma.Schema):
    level = fields.Integer(allow_none=True, metadata={"description": "Current level 1-5."})
    target = fields.Integer(allow_none=True, metadata={"description": "Required level 1-5."})


class PersonIn(ma.Schema):
    """One row of the staff import, as JSON (same rules as the CSV/XLSX template)."""

    nip = fields.String(allow_none=True, validate=validate.Length(max=40), metadata={
        "description": "18 digits; required for PNS/PPPK, empty for external mentors."})
    name = fields.String(**_text)
    email = fields.String(**_text)
    kind = fields.String(**_text, metadata={"description": "PNS, PPPK or Eksternal."})
    grade = fields.String(**_text, metadata={"description": "Golongan, e.g. III/a or PPPK IX."})
    position = fields.String(**_text)
    job_level = fields.String(**_text)
    unit = fields.String(**_text)
    location = fields.String(**_text)
    timezone = fields.String(**_text)
    supervisor_nip = fields.String(**_text)
    organisation = fields.String(**_text)
    expertise = fields.String(allow_none=True, validate=validate.Length(max=1000))
    mode = fields.String(**_text, metadata={"description": "online, in_person or either."})
    availability = fields.String(allow_none=True, validate=validate.Length(max=1000), metadata={
        "description": "Weekly free windows, e.g. 'Mon 09:00-12:00; Thu 13:00-15:00'."})
    leave = fields.String(allow_none=True, validate=validate.Length(max=1000), metadata={
        "description": "Leave periods, e.g. '2025-03-01..2025-03-05'."})
    priority = fields.Boolean(allow_none=True)
    competencies = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=40)),
        values=fields.Nested(CompetencyIn), allow_none=True,
        metadata={"description": "Competency code -> {level, target}."})


class PeopleUpsertIn(ma.Schema):
    people = fields.List(fields.Nested(PersonIn), required=True,
                         validate=validate.Length(min=1))


class UpsertOut(ma.Schema):
    applied = fields.Boolean(required=True)
    new = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)


class RecordError(ma.Schema):
    index = fields.Integer(allow_none=True, metadata={
        "description": "Position of the record in `people` (0-based); null for the whole call."})
    field = fields.String(allow_none=True)
    code = fields.String(required=True)
    reason = fields.String(required=True)


class UpsertError(ma.Schema):
    """Nothing was written; every problem is listed (the same rules as the file import)."""

    code = fields.Integer()
    status = fields.String()
    message = fields.String()
    errors = fields.Dict()
    records = fields.List(fields.Nested(RecordError))


class PersonOut(ma.Schema):
    id = fields.Integer(required=True)
    nip = fields.String(allow_none=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    kind = fields.String(required=True)
    grade = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    job_level = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    active = fields.Boolean(required=True)


class ProgrammeOut(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    unit = fields.String(allow_none=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    status = fields.String(required=True)
    session_minutes = fields.Integer(required=True)
    session_count = fields.Integer(required=True)
    interval_weeks = fields.Integer(required=True)


class PersonRef(ma.Schema):
    id = fields.Integer(required=True)
    nip = fields.String(allow_none=True)
    name = fields.String(required=True)
    unit = fields.String(allow_none=True)


class PairOut(ma.Schema):
    id = fields.Integer(required=True)
    programme_id = fields.Integer(required=True)
    status = fields.String(required=True)
    mentor = fields.Nested(PersonRef, required=True)
    mentee = fields.Nested(PersonRef, required=True)
    focus = fields.List(fields.String(), required=True)
    mode = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class SessionOut(ma.Schema):
    id = fields.Integer(required=True)
    pair_id = fields.Integer(required=True)
    programme_id = fields.Integer(required=True)
    start_at = fields.DateTime(required=True)
    end_at = fields.DateTime(required=True)
    status = fields.String(required=True)


class LogOut(ma.Schema):
    id = fields.Integer(required=True)
    pair_id = fields.Integer(required=True)
    programme_id = fields.Integer(required=True)
    session_id = fields.Integer(allow_none=True)
    held_on = fields.Date(required=True)
    duration_minutes = fields.Integer(required=True)
    credited_minutes = fields.Integer(required=True)
    confirmed_at = fields.DateTime(allow_none=True)
    mentor_nip = fields.String(allow_none=True)
    mentee_nip = fields.String(allow_none=True)
    competencies = fields.List(fields.String(), required=True)


class ProgrammeJpOut(ma.Schema):
    programme_id = fields.Integer(required=True)
    minutes = fields.Integer(required=True)
    sessions = fields.Integer(required=True)
    jp = fields.Decimal(required=True, as_string=True)


class JpOut(ma.Schema):
    person_id = fields.Integer(required=True)
    nip = fields.String(allow_none=True)
    name = fields.String(required=True)
    unit = fields.String(allow_none=True)
    year = fields.Integer(required=True)
    minutes = fields.Integer(required=True)
    sessions = fields.Integer(required=True)
    jp = fields.Decimal(required=True, as_string=True, metadata={
        "description": "Credited JP (1 JP = 45 minutes by default), as a decimal string."})
    target_jp = fields.Integer(required=True)
    programmes = fields.List(fields.Nested(ProgrammeJpOut), required=True)


class DashboardOut(ma.Schema):
    programme_id = fields.Integer(required=True)
    overall = fields.Dict(required=True)
    by = fields.Dict(required=True)
    trend = fields.List(fields.Dict(), required=True)
    minutes_per_jp = fields.Integer(required=True)
    rounding = fields.String(required=True)


PeoplePage = _page_schema("PeoplePage", PersonOut)
ProgrammePage = _page_schema("ProgrammePage", ProgrammeOut)
PairPage = _page_schema("PairPage", PairOut)
SessionPage = _page_schema("SessionPage", SessionOut)
LogPage = _page_schema("LogPage", LogOut)
JpPage = _page_schema("JpPage", JpOut)
