"""A programme's settings and membership (coordinators): create and edit the programme, add
participants by filters, withdraw a mentor, record a mentee's ranking of mentors. Routes of
the ``rounds`` blueprint (their endpoints stay ``rounds.*``)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..models import Programme
from ..services import programmes
from ..services.programmes import ProgrammeError
from .access import requires
from .forms import invalid
from .forms.rounds import (
    PROGRAMME_FIELDS,
    AddParticipantsForm,
    PreferencesForm,
    ProgrammeForm,
    WithdrawForm,
)
from .rounds import _choices, _programme, bp, show
from .transaction import refuse, refused


def _form_page(prog: Programme | None, values: dict[str, Any]) -> str:
    return render_template("rounds/programme_form.html", values=values, prog=prog,
                           **_choices())


def _stored(prog: Programme) -> dict[str, Any]:
    values = {k: getattr(prog, k) for k in programmes.FIELDS}
    values["jp_rule"] = programmes.jp_rule_of(prog)
    values["override_policy"] = programmes.override_policy(prog)
    return values


def _save(prog: Programme | None) -> Any:
    """Create or update from the posted form: a value that is not even a number shows the
    form again (422); the service's refusal is shown beside its field (as typed)."""
    form, creating = ProgrammeForm(), prog is None
    if not form.validate_on_submit():
        return invalid(form, lambda: _form_page(prog, form.typed()))
    try:
        if creating or prog is None:
            prog = programmes.create(current_user, **form.values())
        else:
            programmes.update(prog, current_user, **form.values())
    except ProgrammeError as exc:
        refused(exc, tell=not form.show_refusal(exc, PROGRAMME_FIELDS))
        return _form_page(prog, form.typed())
    flash(_("Programme created.") if creating else _("Programme saved."), "ok")
    return redirect(url_for(".show", pid=prog.id))


@bp.route("/new", methods=["GET", "POST"])
@requires("programme.create")
def new():
    if not ProgrammeForm().is_submitted():
        return _form_page(None, programmes.defaults())
    return _save(None)


@bp.route("/<int:pid>/edit", methods=["GET", "POST"])
@requires("programme.list")
def edit(pid: int):
    prog = _programme(pid)
    if not ProgrammeForm().is_submitted():
        return _form_page(prog, _stored(prog))
    return _save(prog)


@bp.post("/<int:pid>/participants")
@requires("programme.list")
def add_participants(pid: int):
    prog = _programme(pid)
    form = AddParticipantsForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: show(pid))
    try:
        n = programmes.add_participants(prog, form.role.data, form.filters(), current_user)
    except ProgrammeError as exc:
        return refuse(exc, ".show", pid=prog.id)
    flash(_("%(n)d participant(s) added.", n=n), "ok")
    return redirect(url_for(".show", pid=prog.id))


@bp.post("/<int:pid>/mentors/<int:person_id>/withdraw")
@requires("programme.list")
def withdraw(pid: int, person_id: int):
    prog = _programme(pid)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: show(pid), key=person_id)
    try:
        ended = programmes.withdraw_mentor(prog, person_id, current_user,
                                           form.reason.data or "")
    except ProgrammeError as exc:
        return refuse(exc, ".show", pid=prog.id)
    flash(_("The mentor was withdrawn; %(n)d pair(s) ended and their mentees can be "
            "rematched. Everyone concerned was told by e-mail.", n=len(ended)), "ok")
    return redirect(url_for(".show", pid=prog.id))


@bp.post("/<int:pid>/preferences")
@requires("programme.list")
def preferences(pid: int):
    prog = _programme(pid)
    form = PreferencesForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: show(pid))
    try:
        programmes.set_preferences(prog, form.mentee_id.data, form.mentor_id.ids, current_user)
    except ProgrammeError as exc:
        return refuse(exc, ".show", pid=prog.id)
    flash(_("Preferences saved.") if form.mentor_id.ids else
          _("No mentor chosen: this mentee's preferences are cleared."), "ok")
    return redirect(url_for(".show", pid=prog.id))
