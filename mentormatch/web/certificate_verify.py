"""The public verification page of a certificate (the link printed on it): anyone holding the
link sees name, programme, JP and whether the certificate is valid - nothing else."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from ..extensions import db
from ..models import Person, Programme
from ..services import certificate as certificates
from ..services.participant_errors import CertificateError
from .access import public

bp = Blueprint("certificate_verify", __name__, url_prefix="/certificates")


@bp.get("/verify/<token>")
@public
def verify(token: str):
    ids = certificates.from_token(token)
    if ids is None:
        abort(404)
    programme, person = db.session.get(Programme, ids[0]), db.session.get(Person, ids[1])
    if programme is None or person is None:
        abort(404)
    try:
        cert = certificates.build(person, programme)
        certificates.ensure_ready(cert, preview_allowed=False)
        valid = True
    except CertificateError:
        cert, valid = None, False
    return render_template("participants/certificate_verify.html", cert=cert, valid=valid,
                           person=person, programme=programme,
                           number=certificates.number(cert) if cert else None)
