"""Landing page per role and the language switch."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from .. import urls
from ..extensions import db
from ..services import programmes
from ..services.access import allowed
from .access import public, requires
from .admin import ROLE_LABELS

bp = Blueprint("home", __name__)


@bp.get("/")
@requires()
def index():
    coordinated = (programmes.for_user(current_user, limit=10)
                   if allowed(current_user, "programme.list") else [])
    return render_template("home/index.html", user=current_user, coordinated=coordinated,
                           role_labels=ROLE_LABELS)


@bp.post("/language")
@public
def language():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["MM"]["app"]["locales"]:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        if current_user.person is not None:
            current_user.person.locale = locale  # e-mails and invites follow the same choice
        db.session.commit()
    return redirect(urls.safe_next(request.form.get("next"), url_for("home.index")))
