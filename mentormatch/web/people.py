"""People list with filters, and a person's page (competency profile, availability)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models import Person
from ..services import people, profile
from .access import found, guard, requires
from .forms import invalid
from .forms.people import PeopleSearchForm, profile_form
from .transaction import refused

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.get("/")
@requires("people.list")
def index():
    f = PeopleSearchForm().people_filter()
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


@bp.route("/me/edit", methods=["GET", "POST"])
@requires()
def edit_own():
    """A mentor or mentee keeps their own profile (services/profile.py)."""
    person = current_user.person
    if person is None:
        abort(403)
    form = profile_form([c.id for c, _pc in profile.form_rows(person)])

    def page() -> str:
        return render_template("people/edit_own.html", person=person,
                               form=request.form if form.is_submitted() else None,
                               roles=profile.roles_of(person), rows=profile.form_rows(person),
                               windows=profile.windows_text(person),
                               capacity=profile.capacity_of(person))

    if not form.is_submitted():
        return page()
    if not form.validate():
        return invalid(form, page)
    try:
        stale = profile.update_own(
            person, current_user, availability=form.availability.data or "",
            mode=form.mode.data or "", capacity=form.capacity.data or "",
            levels=form.levels("level"), targets=form.levels("target"))
    except profile.ProfileError as exc:
        refused(exc, tell=not form.show_refusal(exc))
        return page()
    flash(_("Your profile was saved.") + (" " + _(
        "The coordinator will re-run matching to take it into account.")
        if stale else ""), "success")
    return redirect(url_for(".show", person_id=person.id))
