"""/api/v1 endpoints: parse, call a service, answer; the call commits once, or rolls back on
an error answer (web/transaction.py)."""

from __future__ import annotations

from flask import g, jsonify, request
from flask_smorest import abort

from ...services import api_reads, people_api
from ...settings import settings
from . import bp, scope
from . import schemas as s


def _filters(args: dict) -> api_reads.Filters:
    return api_reads.Filters(
        page=args.get("page", 1), per_page=args.get("per_page", 100),
        date_from=args.get("date_from"), date_to=args.get("date_to"),
        unit=args.get("unit"), programme_id=args.get("programme_id"))


def _counted(result: dict) -> dict:
    g.api_records = len(result["items"])
    return result


def _locale() -> str:
    return request.accept_languages.best_match(["id", "en"], default="id") or "id"


@bp.post("/people")
@scope("people:write")
@bp.arguments(s.PeopleUpsertIn)
@bp.response(200, s.UpsertOut)
@bp.alt_response(422, schema=s.UpsertError, description="Nothing written; problems per record.")
def upsert_people(body):
    """Create or update people in bulk (all or nothing).

    The same validation as the staff file import: ASN are matched by NIP, external mentors by
    e-mail. When any record has a problem nothing is written and the answer lists every
    problem with the record's position, the field and the reason (Indonesian, or English with
    `Accept-Language: en`).
    """
    records = body["people"]
    limit = settings().api.max_people_per_call
    g.api_records = len(records)
    if len(records) > limit:
        abort(413, message=f"At most {limit} people per call; send batches.")
    result = people_api.upsert(records, f"api:{g.api_client.name}", _locale())
    if not result.applied:
        return jsonify({"code": 422, "status": "Unprocessable Entity",
                        "message": "Nothing was written: fix the records listed.",
                        "records": result.errors}), 422
    return {"applied": True, **result.summary}


@bp.get("/people")
@scope("people:read")
@bp.etag
@bp.arguments(s.PeopleArgs, location="query")
@bp.response(200, s.PeoplePage)
def list_people(args):
    """People (staff and external mentors), paged, by unit or NIP."""
    return _counted(api_reads.people(_filters(args), nip=args.get("nip")))


@bp.get("/programmes")
@scope("programmes:read")
@bp.etag
@bp.arguments(s.FilterArgs, location="query")
@bp.response(200, s.ProgrammePage)
def list_programmes(args):
    """Programmes running in the period (`from`/`to` overlap), by unit."""
    return _counted(api_reads.programmes(_filters(args)))


@bp.get("/pairs")
@scope("programmes:read")
@bp.etag
@bp.arguments(s.FilterArgs, location="query")
@bp.response(200, s.PairPage)
def list_pairs(args):
    """Mentor-mentee pairs, by programme, creation date and the mentee's unit."""
    return _counted(api_reads.pairs(_filters(args)))


@bp.get("/sessions")
@scope("programmes:read")
@bp.etag
@bp.arguments(s.FilterArgs, location="query")
@bp.response(200, s.SessionPage)
def list_sessions(args):
    """Sessions (occurrences), by start date (UTC), programme and the mentee's unit."""
    return _counted(api_reads.sessions(_filters(args)))


@bp.get("/logs")
@scope("reports:read")
@bp.etag
@bp.arguments(s.FilterArgs, location="query")
@bp.response(200, s.LogPage)
def list_logs(args):
    """Confirmed session logs (the time credited as JP), by date held, programme and unit.
    Free-text notes are never exported."""
    return _counted(api_reads.confirmed_logs(_filters(args)))


@bp.get("/jp")
@scope("reports:read")
@bp.etag
@bp.arguments(s.JpArgs, location="query")
@bp.response(200, s.JpPage)
def list_jp(args):
    """JP per person (NIP) for a calendar year: the non-classical development hours an HR
    office reports to SIASN. Both mentor and mentee earn confirmed time."""
    return _counted(api_reads.jp_per_person(args["year"], _filters(args), nip=args.get("nip")))


@bp.get("/reports/dashboard")
@scope("reports:read")
@bp.etag
@bp.arguments(s.DashboardArgs, location="query")
@bp.response(200, s.DashboardOut)
@bp.alt_response(404, description="No such programme.")
def programme_dashboard(args):
    """A programme's dashboard figures: overall, by unit / city / grade band, and by month."""
    figures = api_reads.dashboard(args["programme_id"])
    if figures is None:
        abort(404, message="No such programme.")
    return figures
