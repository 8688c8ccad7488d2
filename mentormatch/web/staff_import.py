"""Staff import in the browser: upload -> preview (file kept in the database under a random
token) -> confirm (token consumed once, so a double submit cannot import twice)."""

from __future__ import annotations

import os

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..services import staff_import, uploads
from ..services.staff_import import ImportRefused
from .access import requires
from .forms import invalid
from .forms.misc import ImportConfirmForm, ImportUploadForm
from .transaction import committed, refuse, refused

bp = Blueprint("staff_import", __name__, url_prefix="/people/import")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _locale() -> str:
    return str(get_locale() or "id")


@bp.get("/")
@requires("people.import")
def upload() -> str:
    return render_template("staff_import/upload.html")


@bp.post("/preview")
@requires("people.import")
def preview():
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return invalid(form, upload, status=400)
    filename = os.path.basename(form.file.data.filename or "")
    data = form.file.data.read()
    zone = form.default_zone.data or None
    report = staff_import.preview(data, filename, _locale(), default_zone=zone)  # no writes
    token = errors_token = None
    if report.ok:
        token = uploads.stage(current_user, "staff_import", filename, data)
    elif report.issue_total > len(report.shown_issues()):
        # the page lists the first problems; all of them are a download away (kept although
        # the answer is a 422)
        with committed():
            errors_token = uploads.stage(current_user, "import_errors",
                                         f"{filename}.errors.csv", report.errors_csv(_locale()))
    return render_template(
        "staff_import/preview.html", report=report, token=token, locale=_locale(),
        errors_token=errors_token,
    ), (200 if report.ok else 422)


@bp.get("/errors/<token>")
@requires("people.import")
def errors_csv(token: str):
    found = uploads.read(current_user, "import_errors", token)
    if found is None:
        flash(ImportRefused("gone").user_message(), "error")
        return redirect(url_for("staff_import.upload"))
    data, _name = found
    return Response(data, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=kesalahan_impor.csv"})


@bp.post("/confirm")
@requires("people.import")
def confirm():
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        return invalid(form, upload, status=400)
    taken = uploads.take(current_user, "staff_import", form.token.data or "")
    if taken is None:
        return refuse(ImportRefused("gone"), "staff_import.upload")
    data, filename = taken
    try:
        report = staff_import.apply(data, filename, current_user, _locale(),
                                    default_zone=form.default_zone.data or None)
    except IntegrityError:
        # Another import of the same people committed between our check and our write.
        return refuse(ImportRefused("concurrent"), "staff_import.upload")
    if not report.ok:
        refused(ImportRefused("stale"))
        return render_template(
            "staff_import/preview.html", report=report, token=None, locale=_locale()
        ), 422
    flash(
        _("Imported %(name)s: %(new)d new, %(updated)d updated, %(unchanged)d unchanged.",
          name=filename, new=report.new, updated=report.updated, unchanged=report.unchanged),
        "success",
    )
    return redirect(url_for("staff_import.upload"))


@bp.get("/template.xlsx")
@requires("people.import")
def template_xlsx():
    return Response(
        staff_import.template_xlsx(), mimetype=XLSX_MIME,
        headers={"Content-Disposition": "attachment; filename=template_pegawai.xlsx"},
    )


@bp.get("/template.csv")
@requires("people.import")
def template_csv():
    return Response(
        staff_import.template_csv(), mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=template_pegawai.csv"},
    )
