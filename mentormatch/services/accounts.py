"""User accounts: creation, passwords, activation and reset tokens, login."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ROLES, Person, User, UserRole
from . import audit, mailer

MIN_PASSWORD = 10


class AccountError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    email: str,
    roles: list[str] | tuple[str, ...],
    *,
    password: str | None = None,
    person: Person | None = None,
    actor: User | None = None,
) -> User:
    email = email.strip().lower()
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError("unknown_role")
    if find_user(email) is not None:
        raise AccountError("email_taken")
    user = User(email=email, person=person, activated_at=None)
    user.role_rows = [UserRole(role=r) for r in sorted(set(roles))]
    if password is not None:
        set_password(user, password)
        user.activated_at = datetime.now(UTC)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", user, roles=sorted(set(roles)))
    return user


def set_roles(user: User, roles: set[str]) -> None:
    have = {r.role: r for r in user.role_rows}
    for role in set(have) - roles:
        user.role_rows.remove(have[role])
    for role in roles - set(have):
        user.role_rows.append(UserRole(role=role))


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("password_too_short")
    user.password_hash = generate_password_hash(password)


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if user is None or user.password_hash is None:
        # Spend the same time as a real check so response time does not reveal accounts.
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = datetime.now(UTC)
    return user


_DUMMY_HASH = generate_password_hash("not-a-real-password")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="account-token")


def _fingerprint(user: User) -> str:
    # Tied to the current password hash: a token stops working once it has been used.
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_token(user: User, purpose: str) -> str:
    return _serializer().dumps({"u": user.id, "p": purpose, "f": _fingerprint(user)})


def read_token(token: str, purpose: str) -> User:
    max_age = int(current_app.config["MM"]["app"]["token_max_age_hours"]) * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise AccountError("token_expired") from exc
    except BadSignature as exc:
        raise AccountError("token_invalid") from exc
    user = db.session.get(User, data.get("u"))
    if user is None or data.get("p") != purpose or data.get("f") != _fingerprint(user):
        raise AccountError("token_invalid")
    return user


def send_activation(user: User) -> None:
    link = url_for("auth.activate", token=make_token(user, "activate"), _external=True)
    mailer.queue_email(
        user.email, "activation", locale=_locale(user), kind="account", link=link, user=user
    )


def request_reset(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way (no account probing)."""
    user = find_user(email)
    if user is None or not user.active:
        return
    link = url_for("auth.reset", token=make_token(user, "reset"), _external=True)
    mailer.queue_email(
        user.email, "password_reset", locale=_locale(user), kind="account", link=link, user=user
    )


def complete_token(token: str, purpose: str, password: str) -> User:
    user = read_token(token, purpose)
    set_password(user, password)
    if purpose == "activate":
        user.activated_at = datetime.now(UTC)
    audit.record(user, f"user.{purpose}", user)
    db.session.flush()
    return user


def _locale(user: User) -> str:
    return user.locale or (user.person.locale if user.person else "id")
