"""Login, logout, account activation and password reset."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from .. import urls
from ..extensions import db, limiter
from ..services import accounts
from .access import public, requires
from .forms import LoginForm, RequestResetForm, SetPasswordForm

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["MM"]["app"]["login_rate_limit"]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except accounts.AccountLocked:
            user = None  # same answer as a wrong password: a lock must not reveal an account
        db.session.commit()  # the failure counter, or the successful login
        if user is not None:
            login_user(user)
            db.session.commit()
            return redirect(urls.safe_next(request.args.get("next"), url_for("home.index")))
        flash(_("E-mail or password is wrong, or the account is not active. After several "
                "wrong passwords an account is locked for a few minutes; a password reset "
                "unlocks it."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@requires()
def logout():
    accounts.end_sessions(current_user._get_current_object())  # also copies of this cookie
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/reset", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def request_reset():
    form = RequestResetForm()
    if form.validate_on_submit():
        accounts.request_reset(form.email.data)
        db.session.commit()
        flash(_("If the account exists, a reset link has been sent to that address."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/request_reset.html", form=form)


def _token_page(token: str, purpose: str, template: str):
    try:
        accounts.read_token(token, purpose)
    except accounts.AccountError:
        flash(_("This link is invalid or has expired."), "error")
        return redirect(url_for("auth.login"))
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.complete_token(token, purpose, form.password.data)
        except accounts.AccountError:
            db.session.rollback()
            flash(_("This link is invalid or has expired."), "error")
            return redirect(url_for("auth.login"))
        db.session.commit()
        flash(_("Password saved. You can log in now."), "info")
        return redirect(url_for("auth.login"))
    return render_template(template, form=form)


@bp.route("/activate/<token>", methods=["GET", "POST"])
@public
def activate(token: str):
    return _token_page(token, "activate", "auth/activate.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset(token: str):
    return _token_page(token, "reset", "auth/reset.html")
