"""Account administration for admins: invite people, change roles, deactivate, unlock."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import ROLES, Programme, User
from ..services import accounts
from .access import found, requires
from .labels import labels
from .transaction import refuse

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = labels()["role"]


@bp.get("/users")
@requires("users.manage")
def users():
    q = request.args.get("q", "")[:100]
    page = request.args.get("page", "1")
    page_no = int(page) if page.isdigit() else 1
    state = request.args.get("state", "")
    state = state if state in ("pending", "inactive") else ""
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
    raw = request.form.get("programme_id", "")
    prog = found(db.session.get(Programme, int(raw)) if raw.isdigit() else None)
    result = accounts.invite_programme(current_user, prog.id)
    db.session.commit()
    return render_template("admin/invite_result.html", prog=prog, result=result)


@bp.post("/users")
@requires("users.manage")
def invite():
    roles = [r for r in request.form.getlist("roles") if r in ROLES]
    try:
        user = accounts.invite_user(current_user, request.form.get("email", "")[:254], roles,
                                    request.form.get("person", "")[:254])
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
    action = request.form.get("action", "save")
    try:
        if action == "unlock":
            accounts.unlock_user(current_user, user)
        elif action == "resend":
            accounts.resend_activation(current_user, user)
        else:
            roles = {r for r in request.form.getlist("roles") if r in ROLES}
            accounts.update_user(current_user, user, roles=roles,
                                 active=request.form.get("active") == "1")
    except accounts.AccountError as exc:
        return refuse(exc, ".users", q=request.args.get("q", ""),
                      state=request.args.get("state", ""))
    flash(_l("Saved."), "success")
    return redirect(url_for(".users", q=request.args.get("q", ""),
                            state=request.args.get("state", "")))
