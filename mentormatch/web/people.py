"""People list with filters, and a person's page (competency profile, availability)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..extensions import db
from ..models import Person
from ..services import people
from .access import found, guard, requires

bp = Blueprint("people", __name__, url_prefix="/people")


def _int(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.get("/")
@requires("people.list")
def index():
    f = people.PeopleFilter(
        q=request.args.get("q", "")[:100],
        unit_id=_int("unit"),
        city=request.args.get("city", "")[:100],
        grade_min=_int("grade_min"),
        grade_max=_int("grade_max"),
        role=request.args.get("role", ""),
        gap_in=request.args.get("gap", "")[:20],
        page=_int("page") or 1,
    )
    rows, total = people.search(f)
    return render_template(
        "people/index.html", rows=rows, total=total, f=f, page_size=people.PAGE_SIZE,
        **people.filter_choices(),
    )


@bp.get("/<int:person_id>")
@requires()
def show(person_id: int):
    person = found(db.session.get(Person, person_id))
    guard("person.view", person)
    return render_template(
        "people/show.html", person=person, grid=people.availability_grid(person)
    )
