"""A programme's pairs by status with the next action at hand, and its participant list with
add/remove of one person (coordinators of the programme)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models import Pair, Programme
from ..models.base import utcnow
from ..services import pair_admin, rounds
from ..services.programmes import ProgrammeError
from .access import found, requires
from .forms import invalid
from .forms.rounds import AddOneForm, EndPairForm
from .rounds import _programme
from .transaction import refuse, refused

bp = Blueprint("pairs", __name__, url_prefix="/programmes")


@bp.get("/<int:pid>/pairs")
@requires("programme.list")
def index(pid: int) -> str:
    prog = _programme(pid)
    status = request.args.get("status", "active")
    return _pairs_page(prog, status if status in pair_admin.STATUSES else "active")


def _pairs_page(prog: Programme, status: str) -> str:
    return render_template("rounds/pairs.html", prog=prog, status=status,
                           counts=pair_admin.counts(prog), rows=pair_admin.rows(prog, status),
                           statuses=pair_admin.STATUSES)


@bp.post("/<int:pid>/pairs/<int:pair_id>/end")
@requires("programme.list")
def end(pid: int, pair_id: int):
    prog = _programme(pid)
    pair = found(db.session.get(Pair, pair_id))
    if pair.programme_id != prog.id:
        found(None)
    form = EndPairForm()
    if not form.validate_on_submit():
        status = pair.status if pair.status in pair_admin.STATUSES else "active"
        return invalid(form, lambda: _pairs_page(prog, status), key=pair_id)
    try:
        pair_admin.end_pair(prog, pair, current_user, form.reason.data or "")
    except ProgrammeError as exc:
        refused(exc)
    else:
        flash(_("The pair has ended; both were told and %(name)s can be matched again.",
                name=pair.mentee.name), "success")
    return redirect(url_for(".index", pid=prog.id, status="ended"))


@bp.post("/<int:pid>/rematch")
@requires("programme.list")
def rematch(pid: int):
    prog = _programme(pid)
    name = _("Rematch %(date)s", date=utcnow().date().isoformat())
    try:
        rnd = rounds.create(prog, current_user, name=name, kind="rematch",
                            filters={"not_matched": "1"})
    except rounds.RoundError as exc:
        return refuse(exc, ".index", pid=prog.id, status="unmatched")
    return redirect(url_for("rounds.round_page", pid=prog.id, rid=rnd.id))


@bp.get("/<int:pid>/participants")
@requires("programme.list")
def participants(pid: int) -> str:
    prog = _programme(pid)
    return render_template("rounds/participants.html", prog=prog,
                           rows=pair_admin.participant_list(prog))


@bp.post("/<int:pid>/participants/one")
@requires("programme.list")
def add_one(pid: int):
    prog = _programme(pid)
    form = AddOneForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: participants(pid))
    try:
        part = pair_admin.add_one(prog, form.person.data or "", form.role.data or "",
                                  current_user)
    except ProgrammeError as exc:
        refused(exc)
    else:
        flash(_("%(name)s was added.", name=part.person.name), "success")
    return redirect(url_for(".participants", pid=prog.id))


@bp.post("/<int:pid>/participants/<int:participant_id>/remove")
@requires("programme.list")
def remove_one(pid: int, participant_id: int):
    prog = _programme(pid)
    try:
        part = pair_admin.remove_one(prog, participant_id, current_user)
    except ProgrammeError as exc:
        refused(exc)
    else:
        flash(_("%(name)s was removed from the programme.", name=part.person.name), "success")
    return redirect(url_for(".participants", pid=prog.id))
