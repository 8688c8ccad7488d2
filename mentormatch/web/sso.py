"""Single sign-on through any OpenID Connect provider (Authlib's Flask client).

Discovery from the issuer URL, authorization code flow with PKCE (S256), `state` and `nonce`
checked by Authlib, the ID token's signature, issuer, audience and expiry checked with a
configurable clock-skew leeway. Logout also ends the provider session (RP-initiated logout)
when the provider announces an end_session_endpoint. With `[sso] password_login = false` only
administrators may still log in with a password (the break-glass login).
"""

from __future__ import annotations

import re
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from joserfc.errors import JoseError

from ..models import ROLES
from ..services import sso
from ..services.accounts import find_user
from ..settings import SsoSettings
from ..settings import settings as typed_settings
from .access import public, requires
from .forms import invalid
from .forms.admin import SsoGroupForm
from .transaction import committed, refuse, refused

bp = Blueprint("sso", __name__)

def _sso() -> SsoSettings:
    return typed_settings().sso


def enabled(s: SsoSettings | None = None) -> bool:
    s = _sso() if s is None else s
    return bool(s.issuer and s.client_id)


def _issuer(s: SsoSettings) -> str:
    return s.issuer.rstrip("/")


def init_sso(app: Flask) -> None:
    s = typed_settings(app).sso
    app.register_blueprint(bp)
    if not enabled(s):
        return
    oauth = OAuth(app)
    oauth.register(
        "oidc", client_id=s.client_id, client_secret=s.client_secret or None,
        server_metadata_url=_issuer(s) + "/.well-known/openid-configuration",
        client_kwargs={"scope": s.scope,
                       "code_challenge_method": "S256", "default_timeout": 10},
    )
    app.extensions["mm_sso"] = oauth.oidc


def _client():
    return current_app.extensions.get("mm_sso")


def _external(endpoint: str) -> str:
    base = typed_settings().app.base_url.rstrip("/")
    return base + url_for(endpoint)


def _unavailable():
    return render_template("sso/unavailable.html", password_login=_password_login()), 503


def _refused(exc: sso.SsoRefused):
    refused(exc, tell=False)  # the page says why
    return render_template("sso/refused.html", reason=exc.user_message(), code=exc.code,
                           password_login=_password_login()), 403


def _password_login() -> bool:
    return _sso().password_login


@bp.get("/login/sso")
@public
def login():
    client = _client()
    if client is None:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    try:
        # Fresh discovery on every sign-in: a provider that is down gets a clear page here
        # instead of a browser error on its own host.
        client.server_metadata.pop("_loaded_at", None)
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError):
        current_app.logger.warning("SSO provider unreachable: %s", _sso().issuer)
        return _unavailable()
    if str(metadata.get("issuer", "")).rstrip("/") != _issuer(_sso()):
        current_app.logger.warning("SSO discovery issuer %r does not match the configured %r",
                                   metadata.get("issuer"), _sso().issuer)
        return _unavailable()
    return client.authorize_redirect(_external("sso.callback"))


def _reason(exc: Exception) -> str:
    name = type(exc).__name__
    text = f"{getattr(exc, 'error', '')} {getattr(exc, 'description', '')} {exc}"
    if "Expired" in name:
        return "exp"
    if "Signature" in name:
        return "signature"
    if "State" in name:
        return "state"
    for claim, code in (("aud", "aud"), ("azp", "aud"), ("iss", "iss"), ("nonce", "nonce"),
                        ("exp", "exp")):
        if re.search(rf"\b{claim}\b", text) or getattr(exc, "claim", None) == claim:
            return code
    if getattr(exc, "error", None):
        return "provider"
    return "token"


@bp.get("/login/sso/callback")
@public
def callback():
    client = _client()
    if client is None:
        abort(404)
    s = _sso()
    issuer = _issuer(s)
    try:
        token = client.authorize_access_token(
            claims_options={"iss": {"essential": True, "values": [issuer, issuer + "/"]}},
            leeway=s.leeway_seconds)
    except requests.RequestException:
        return _unavailable()
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as exc:
        code = _reason(exc)
        current_app.logger.warning("SSO sign-in refused (%s): %s", code, exc)
        return _refused(sso.SsoRefused(code))
    claims = dict(token.get("userinfo") or {})
    email_claim, nip_claim = s.email_claim, s.nip_claim
    if (email_claim not in claims or nip_claim not in claims) and \
            client.server_metadata.get("userinfo_endpoint"):
        try:
            info = dict(client.userinfo(token=token))
        except (requests.RequestException, AuthlibBaseError, ValueError):
            info = {}
        if info.get("sub") == claims.get("sub"):
            for key, value in info.items():
                claims.setdefault(key, value)
    try:
        with committed():  # a GET: the sign-in is stored before the browser session is
            user = sso.sign_in(claims, issuer, s)
    except sso.SsoRefused as exc:
        return _refused(exc)
    session.clear()  # a fresh session for the signed-in user (no fixation)
    login_user(user)
    session["sso_id_token"] = token.get("id_token")
    return redirect(url_for("home.index"))


@bp.before_app_request
def _before() -> Any:
    endpoint = request.endpoint or ""
    if endpoint == "auth.logout" and current_user.is_authenticated:
        g.sso_id_token = session.pop("sso_id_token", None)
    elif endpoint in ("auth.login", "auth.request_reset") and request.method == "POST" \
            and enabled() and not _password_login():
        # Break-glass: only administrators keep the local password login.
        user = find_user(request.form.get("email", "")[:254])
        if user is None or not user.has_role("admin"):
            flash(_("Password login is switched off: sign in with SSO. Only administrators "
                    "keep a local password login for emergencies."), "error")
            return redirect(url_for("auth.login"))
    return None


@bp.after_app_request
def _after(response):
    hint = g.pop("sso_id_token", None)
    client = _client()
    if hint and client is not None and response.status_code in (301, 302, 303):
        try:
            logout = client.create_logout_url(
                post_logout_redirect_uri=_external("auth.login"), id_token_hint=hint)
        except (RuntimeError, requests.RequestException, ValueError):
            return response  # the provider offers no RP-initiated logout (or is down)
        response.headers["Location"] = logout["url"]
    return response


@bp.app_context_processor
def _template_flags() -> dict[str, Any]:
    s = _sso()
    return {"sso_enabled": enabled(s), "sso_button_label": s.button_label or "SSO",
            "password_login": s.password_login or not enabled(s)}


# -- admin: provider groups -> roles -----------------------------------------------------------

ROLE_LABELS = {"admin": _l("Administrator"), "coordinator": _l("Coordinator"),
               "mentor": _l("Mentor"), "mentee": _l("Mentee")}


@bp.route("/admin/sso-groups", methods=["GET", "POST"])
@requires("users.manage")
def groups():
    form = SsoGroupForm()
    if not form.is_submitted():
        return _groups_page()
    if not form.validate():
        return invalid(form, _groups_page)
    try:
        sso.map_group(current_user, form.group.data or "", form.role.data or "")
    except sso.SsoRefused as exc:
        return refuse(exc, ".groups")
    flash(_("Saved."), "success")
    return redirect(url_for(".groups"))


def _groups_page() -> str:
    return render_template("sso/groups.html", mappings=sso.group_mappings(), roles=ROLES,
                           role_labels=ROLE_LABELS, enabled=enabled())


@bp.post("/admin/sso-groups/<int:mapping_id>/delete")
@requires("users.manage")
def unmap(mapping_id: int):
    sso.unmap_group(current_user, mapping_id)
    flash(_("Saved."), "success")
    return redirect(url_for(".groups"))
