"""Account administration for admins: invite people, change roles, deactivate, unlock
(forms in web/forms/admin.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import ROLES, Programme, User
from ..services import accounts
from .access import found, requires
from .forms import invalid
from .forms.admin import InviteForm, InviteProgrammeForm, UserForm, UsersSearchForm
from .labels import labels
from .transaction import refuse

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = labels()["role"]


@bp.get("/users")
@requires("users.manage")
def users():
    search = UsersSearchForm()
    q, page_no, state = search.value("q") or "", search.value("page") or 1, \
        search.value("state") or ""
    rows, total = accounts.list_users(q, page_no, state)
    programmes = db.session.scalars(select(Programme).where(Programme.status == "active")
                                    .order_by(Programme.name).limit(200)).all()
    return render_template("admin/users.html", rows=rows, total=total, q=q, page=page_no,
                           page_size=accounts.USERS_PAGE, roles=ROLES, role_labels=ROLE_LABELS,
                           state=state, pending=accounts.pending_count(),
                           programmes=programmes)


@bp.post("/users/programme")
@requires("users.manage")
def invite_programme():
    form = InviteProgrammeForm()
    if not form.validate_on_submit():
        return invalid(form, users)
    prog = found(db.session.get(Programme, form.programme_id.data))
    result = accounts.invite_programme(current_user, prog.id)
    return render_template("admin/invite_result.html", prog=prog, result=result)


@bp.post("/users")
@requires("users.manage")
def invite():
    form = InviteForm()
    if not form.validate_on_submit():
        return invalid(form, users)
    try:
        user = accounts.invite_user(current_user, form.email.data, form.roles.data or [],
                                    form.person.data or "")
    except accounts.AccountError as exc:
        return refuse(exc, ".users")
    # a plain str: a lazy string has __html__ and would reach the page unescaped
    flash(str(_l("Account created for %(email)s; the activation link was e-mailed.",
                 email=user.email)), "success")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>")
@requires("users.manage")
def update(user_id: int):
    user = found(db.session.get(User, user_id))
    form = UserForm()
    if not form.validate_on_submit():
        return invalid(form, users, key=user_id)
    try:
        if form.action.data == "unlock":
            accounts.unlock_user(current_user, user)
        elif form.action.data == "resend":
            accounts.resend_activation(current_user, user)
        else:
            accounts.update_user(current_user, user, roles=set(form.roles.data or []),
                                 active=form.active.data)
    except accounts.AccountError as exc:
        return refuse(exc, ".users", q=request.args.get("q", ""),
                      state=request.args.get("state", ""))
    flash(_l("Saved."), "success")
    return redirect(url_for(".users", q=request.args.get("q", ""),
                            state=request.args.get("state", "")))
