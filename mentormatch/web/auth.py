"""Login, logout, account activation and password reset."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .. import urls
from ..extensions import limiter
from ..services import accounts
from ..settings import settings
from .access import public, requires
from .forms import LoginForm, RequestResetForm, SetPasswordForm
from .transaction import committed, refused

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return settings().app.login_rate_limit


RESET_ANSWER_SECONDS = 0.5
DEVICE_COOKIE = "mm_device"
DEVICE_DAYS = 180


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def _known_device() -> int | None:
    """The account this browser signed in to before (a signed cookie), if any."""
    raw = request.cookies.get(DEVICE_COOKIE, "")
    if not raw or len(raw) > 200:
        return None
    try:
        data = _device_serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    return data.get("u") if isinstance(data, dict) and isinstance(data.get("u"), int) else None


def _remember_device(resp, user_id: int) -> None:
    resp.set_cookie(DEVICE_COOKIE, _device_serializer().dumps({"u": user_id}),
                    max_age=DEVICE_DAYS * 86400, httponly=True, samesite="Lax",
                    secure=bool(current_app.config["SESSION_COOKIE_SECURE"]))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            # the failure counter and lock stand whatever this request answers
            with committed():
                user = accounts.authenticate(form.email.data, form.password.data,
                                             device_user_id=_known_device())
        except accounts.AccountLocked:
            user = None  # same answer as a wrong password: a lock must not reveal an account
        if user is not None:
            login_user(user)
            resp = redirect(urls.safe_next(request.args.get("next"), url_for("home.index")))
            _remember_device(resp, user.id)
            return resp
        flash(_("E-mail or password is wrong, or the account is not active. After several "
                "wrong passwords an account is locked for a few minutes; a password reset "
                "unlocks it."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@requires()
def logout():
    accounts.end_sessions(current_user._get_current_object())  # also copies of this cookie
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/reset", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def request_reset():
    form = RequestResetForm()
    if form.validate_on_submit():
        started = time.monotonic()
        # the same answer time for known and unknown addresses (a real one renders and
        # stores a mail, and commits it inside the measured time): no probing for accounts
        # by timing
        with committed():
            accounts.request_reset(form.email.data)
        time.sleep(max(0.0, RESET_ANSWER_SECONDS - (time.monotonic() - started)))
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
        except accounts.AccountError as exc:
            refused(exc, tell=False)  # the same answer as for a link that was never valid
            flash(_("This link is invalid or has expired."), "error")
            return redirect(url_for("auth.login"))
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
