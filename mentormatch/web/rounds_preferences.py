"""The mentee's preference page (route of the ``rounds`` blueprint): rank up to three of
their suggested mentors while a round is open, when the programme allows it."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models import Programme
from ..services import people, programmes, solver_bridge
from ..services.programmes import ProgrammeError
from .access import found, requires
from .forms import invalid
from .forms.rounds import MyPreferencesForm
from .rounds import bp
from .transaction import refused


@bp.app_context_processor
def _preference_links() -> dict[str, Any]:
    """For the mentee's home: programmes where they may rank mentors now (called lazily)."""
    def invitations() -> list[Programme]:
        if not current_user.is_authenticated:
            return []
        return programmes.preference_invitations(current_user.person_id)

    return {"preference_invitations": invitations}


@bp.route("/<int:pid>/my-preferences", methods=["GET", "POST"])
@requires()
def my_preferences(pid: int):
    prog = found(db.session.get(Programme, pid))
    if not (prog.preferences_enabled
            and programmes.is_active_mentee(prog, current_user.person_id)):
        found(None)
    suggested = solver_bridge.suggestions(prog, current_user.person_id)
    known = {s["person"].id for s in suggested}

    def page() -> str:
        chosen = programmes.preferences_of(prog, current_user.person_id)
        return render_template("rounds/my_preferences.html", prog=prog, suggested=suggested,
                               chosen=chosen, names=people.names_of(chosen), known=known,
                               open_round=programmes.open_round_exists(prog))

    form = MyPreferencesForm()
    if not form.is_submitted():
        return page()
    if not form.validate():
        return invalid(form, page)
    try:
        programmes.set_preferences(prog, current_user.person_id, form.mentor_id.ids,
                                   current_user, allowed=known)
    except ProgrammeError as exc:
        refused(exc)
    else:
        flash(_("Preferences saved.") if form.mentor_id.ids else
              _("No mentor chosen: your preferences are cleared."), "ok")
    return page()
