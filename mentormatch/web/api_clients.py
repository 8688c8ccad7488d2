"""Admin page for REST API clients: create (the token is shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from ..models import API_SCOPES, ApiClient
from ..services import api_clients
from .access import found, requires
from .forms import invalid
from .forms.admin import ApiClientForm
from .transaction import refuse

bp = Blueprint("api_clients", __name__, url_prefix="/admin/api-clients")

SCOPE_LABELS = {
    "people:write": _l("Create and update people (staff import)"),
    "people:read": _l("Read people"),
    "programmes:read": _l("Read programmes, pairs and sessions"),
    "reports:read": _l("Read confirmed logs, JP and dashboard figures"),
}


def _page(token: str | None = None, name: str = "") -> str:
    return render_template("admin/api_clients.html", clients=api_clients.list_clients(),
                           scopes=API_SCOPES, scope_labels=SCOPE_LABELS, token=token,
                           new_name=name)


@bp.get("")
@requires("users.manage")
def index():
    return _page()


@bp.post("")
@requires("users.manage")
def create():
    form = ApiClientForm()
    if not form.validate_on_submit():
        return invalid(form, _page)
    try:
        new = api_clients.create_client(current_user, form.name.data or "",
                                        form.scopes.data or [])
    except api_clients.ApiClientError as exc:
        return refuse(exc, ".index")
    # The token is in this answer only: never stored, never shown again.
    return _page(token=new.token, name=new.client.name)


@bp.post("/<int:client_id>/revoke")
@requires("users.manage")
def revoke(client_id: int):
    client = found(db.session.get(ApiClient, client_id))
    api_clients.revoke_client(current_user, client)
    flash(_l("API client %(name)s revoked; its token no longer works.", name=client.name),
          "success")
    return redirect(url_for(".index"))
