"""Account administration for admins: invite people, change roles, deactivate, unlock."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from ..models import ROLES, User
from ..services import accounts
from .access import found, requires

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = {"admin": _l("Administrator"), "coordinator": _l("Coordinator"),
               "mentor": _l("Mentor"), "mentee": _l("Mentee")}
ERRORS = {
    "email_taken": _l("An account with this e-mail already exists."),
    "email_invalid": _l("Enter one valid e-mail address (no list, no line breaks)."),
    "unknown_role": _l("Unknown role."),
    "no_role": _l("Choose at least one role."),
    "person_unknown": _l("No imported person has this NIP or e-mail."),
    "person_has_account": _l("This person already has an account."),
    "self_lockout": _l("You cannot remove your own administrator role or deactivate yourself."),
    "already_active": _l("This account is already activated."),
}


def _error(exc: accounts.AccountError) -> None:
    flash(ERRORS.get(exc.code, _l("The change could not be saved.")), "error")


@bp.get("/users")
@requires("users.manage")
def users():
    q = request.args.get("q", "")[:100]
    page = request.args.get("page", "1")
    page_no = int(page) if page.isdigit() else 1
    rows, total = accounts.list_users(q, page_no)
    return render_template("admin/users.html", rows=rows, total=total, q=q, page=page_no,
                           page_size=accounts.USERS_PAGE, roles=ROLES, role_labels=ROLE_LABELS)


@bp.post("/users")
@requires("users.manage")
def invite():
    roles = [r for r in request.form.getlist("roles") if r in ROLES]
    try:
        user = accounts.invite_user(current_user, request.form.get("email", "")[:254], roles,
                                    request.form.get("person", "")[:254])
    except accounts.AccountError as exc:
        db.session.rollback()
        _error(exc)
    else:
        db.session.commit()
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
        db.session.rollback()
        _error(exc)
    else:
        db.session.commit()
        flash(_l("Saved."), "success")
    return redirect(url_for(".users", q=request.args.get("q", "")))
