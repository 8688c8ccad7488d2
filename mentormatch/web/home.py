"""Landing page per role and the language switch."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user

from .. import urls
from ..services import programmes
from ..services.access import allowed
from ..settings import settings
from .access import public, requires
from .admin import ROLE_LABELS
from .forms.misc import LanguageForm

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
    form = LanguageForm()
    locale = form.locale.data or ""
    if not form.validate_on_submit() or locale not in settings().app.locales:
        abort(400)  # the switch offers the configured languages only
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        if current_user.person is not None:
            current_user.person.locale = locale  # e-mails and invites follow the same choice
    return redirect(urls.safe_next(form.next.data, url_for("home.index")))
