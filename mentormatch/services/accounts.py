"""User accounts: creation, passwords, activation and reset tokens, login."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .. import urls
from ..extensions import db
from ..models import ROLES, Actor, Person, User, UserRole
from ..settings import settings
from . import audit, mailer
from .errors import ServiceError
from .people import escape_like

MIN_PASSWORD = 10


class AccountError(ServiceError):
    messages = {
        "email_taken": _l("An account with this e-mail already exists."),
        "email_invalid": _l("Enter one valid e-mail address (no list, no line breaks)."),
        "unknown_role": _l("Unknown role."),
        "no_role": _l("Choose at least one role."),
        "person_unknown": _l("No imported person has this NIP or e-mail."),
        "person_has_account": _l("This person already has an account."),
        "self_lockout": _l("You cannot remove your own administrator role or deactivate "
                           "yourself."),
        "already_active": _l("This account is already activated."),
    }
    fallback = _l("The change could not be saved.")


_ONE_ADDRESS = re.compile(r"[^@\s,;:<>()\[\]\\\"`\x00-\x1f\x7f]+"
                          r"@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    email: str,
    roles: list[str] | tuple[str, ...],
    *,
    password: str | None = None,
    person: Person | None = None,
    actor: Actor = None,
) -> User:
    email = email.strip().lower()
    if not _ONE_ADDRESS.fullmatch(email) or len(email) > 254:
        raise AccountError("email_invalid")  # one address: no lists, no CR/LF, no markup
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


def end_sessions(user: User) -> None:
    """Sign the account out everywhere: every session cookie issued before stops working."""
    user.session_generation = (user.session_generation or 0) + 1
    db.session.flush()


def set_roles(user: User, roles: set[str]) -> None:
    have = {r.role: r for r in user.role_rows}
    if set(have) - roles:
        end_sessions(user)  # a removed role must not live on in an open session
    for role in set(have) - roles:
        user.role_rows.remove(have[role])
    for role in roles - set(have):
        user.role_rows.append(UserRole(role=role))


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("password_too_short")
    if user.password_hash is not None:
        end_sessions(user)  # a new password ends every session opened with the old one
    user.password_hash = generate_password_hash(password)


class AccountLocked(AccountError):
    def __init__(self, until: datetime) -> None:
        super().__init__("locked")
        self.until = until


def _lock_policy() -> tuple[int, timedelta]:
    app = settings().app
    return app.login_max_failures, timedelta(minutes=app.login_lock_minutes)


def authenticate(email: str, password: str, device_user_id: int | None = None) -> User | None:
    """The user when e-mail and password match an active account, else None.

    Consecutive failures on one account lock it for a while (the counter lives in the
    database, so every worker and machine sees it); the caller commits either way. A locked
    account raises AccountLocked even with the right password, so guessing gains nothing."""
    user = find_user(email)
    if user is None or user.password_hash is None:
        # Spend the same time as a real check so response time does not reveal accounts.
        check_password_hash(_DUMMY_HASH, password)
        return None
    now = datetime.now(UTC)
    known_device = device_user_id is not None and device_user_id == user.id
    if user.locked_until is not None and user.locked_until > now:
        if not known_device:
            check_password_hash(_DUMMY_HASH, password)
            raise AccountLocked(user.locked_until)
        # A browser this account signed in from before: someone else's storm of wrong
        # passwords (which locked the account) does not lock its owner out. Its own wrong
        # passwords are limited per client address (login_rate_limit).
        if not user.active or not check_password_hash(user.password_hash, password):
            return None
    if not user.active or not check_password_hash(user.password_hash, password):
        _count_failure(user, now)
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def _count_failure(user: User, now: datetime) -> None:
    """Increment in SQL, not in Python: concurrent attempts on several workers all count."""
    max_failures, lock_for = _lock_policy()
    db.session.execute(
        update(User).where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .execution_options(synchronize_session=False)
    )
    locked = db.session.execute(
        update(User).where(User.id == user.id, User.failed_logins >= max_failures)
        .values(failed_logins=0, locked_until=now + lock_for)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]  # a CursorResult
    db.session.expire(user, ["failed_logins", "locked_until"])
    if locked:
        audit.record(None, "user.locked", user, minutes=int(lock_for.total_seconds() // 60))


_DUMMY_HASH = generate_password_hash("not-a-real-password")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="account-token")


def _fingerprint(user: User) -> str:
    # Tied to the current password hash: a token stops working once it has been used.
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_token(user: User, purpose: str) -> str:
    return _serializer().dumps({"u": user.id, "p": purpose, "f": _fingerprint(user)})


def read_token(token: str, purpose: str) -> User:
    # A reset link is a key to the account: it lives for hours, an activation link for days.
    key = "reset_token_hours" if purpose == "reset" else "activation_token_hours"
    max_age = int(getattr(settings().app, key)) * 3600
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
    link = urls.external("auth.activate", token=make_token(user, "activate"))
    mailer.queue_email(
        user.email, "activation", locale=_locale(user), kind="account", link=link, user=user
    )


def request_reset(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way (no account probing)."""
    user = find_user(email)
    if user is None or not user.active:
        return
    link = urls.external("auth.reset", token=make_token(user, "reset"))
    mailer.queue_email(
        user.email, "password_reset", locale=_locale(user), kind="account", link=link, user=user
    )


def complete_token(token: str, purpose: str, password: str) -> User:
    user = read_token(token, purpose)
    set_password(user, password)
    user.failed_logins = 0
    user.locked_until = None  # whoever proves the mailbox gets the account back
    if purpose == "activate":
        user.activated_at = datetime.now(UTC)
    audit.record(user, f"user.{purpose}", user)
    db.session.flush()
    return user


def _locale(user: User) -> str:
    return user.locale or (user.person.locale if user.person else "id")


# --------------------------------------------------------------------------------------------
# Administration (admins only; the view guards "users.manage")

USERS_PAGE = 50


def list_users(q: str = "", page: int = 1, state: str = "") -> tuple[list[User], int]:
    query = select(User)
    if state == "pending":  # never activated: the activation link was not used
        query = query.where(User.password_hash.is_(None))
    elif state == "inactive":
        query = query.where(User.active.is_(False))
    if q:
        like = "%" + escape_like(q.strip().lower()) + "%"
        query = query.outerjoin(Person, Person.id == User.person_id).where(
            func.lower(User.email).like(like, escape="\\")
            | func.lower(Person.name).like(like, escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.order_by(User.email).limit(USERS_PAGE)
                              .offset((max(1, page) - 1) * USERS_PAGE)).unique()
    return list(rows), total


def invite_user(actor: User, email: str, roles: list[str], person_key: str = "") -> User:
    """Create an account and mail its activation link. `person_key` (NIP or e-mail of an
    imported person) links the account to that person's profile."""
    person = None
    key = person_key.strip()
    if key:
        person = db.session.scalar(select(Person).where(
            (Person.nip == key) | (func.lower(Person.email) == key.lower())))
        if person is None:
            raise AccountError("person_unknown")
        if db.session.scalar(select(User.id).where(User.person_id == person.id)) is not None:
            raise AccountError("person_has_account")
    if not roles:
        raise AccountError("no_role")
    user = create_user(email, roles, person=person, actor=actor)
    send_activation(user)
    return user


def update_user(actor: User, user: User, *, roles: set[str], active: bool) -> None:
    """Change roles and the active flag; an admin cannot lock themselves out."""
    if not roles:
        raise AccountError("no_role")
    if set(roles) - set(ROLES):
        raise AccountError("unknown_role")
    if user.id == actor.id and ("admin" not in roles or not active):
        raise AccountError("self_lockout")
    before = sorted(user.roles), user.active
    set_roles(user, set(roles))
    if user.active and not active:
        end_sessions(user)
    user.active = active
    db.session.flush()
    audit.record(actor, "user.update", user, roles=sorted(roles), active=active,
                 before={"roles": before[0], "active": before[1]})


def unlock_user(actor: User, user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()
    audit.record(actor, "user.unlock", user)


def resend_activation(actor: User, user: User) -> None:
    if user.password_hash is not None:
        raise AccountError("already_active")
    send_activation(user)
    audit.record(actor, "user.resend_activation", user)


def pending_count() -> int:
    """Accounts whose activation link was never used."""
    return db.session.scalar(select(func.count()).select_from(User)
                             .where(User.password_hash.is_(None))) or 0


def invite_programme(actor: User, programme_id: int) -> dict[str, list[Person]]:
    """Give every active mentor and mentee of a programme a login: one account per person
    (both roles when they hold both), with the activation link e-mailed. People who already
    have an account keep it; people without an e-mail address, or whose address belongs to
    another account, are returned so the admin can fix them."""
    from ..models import Participant

    rows = db.session.execute(
        select(Participant.person_id, Participant.role)
        .where(Participant.programme_id == programme_id, Participant.active.is_(True))
    ).all()
    roles_of: dict[int, set[str]] = {}
    for person_id, role in rows:
        roles_of.setdefault(person_id, set()).add(role)
    result: dict[str, list[Person]] = {"invited": [], "had_account": [], "no_email": [],
                                       "email_taken": []}
    if not roles_of:
        return result
    people = db.session.scalars(select(Person).where(Person.id.in_(roles_of))
                                .order_by(Person.name)).unique().all()
    with_account = set(db.session.scalars(select(User.person_id)
                                          .where(User.person_id.in_(roles_of))))
    for person in people:
        if person.id in with_account:
            result["had_account"].append(person)
        elif not (person.email or "").strip():
            result["no_email"].append(person)
        elif find_user(person.email) is not None:
            result["email_taken"].append(person)
        else:
            user = create_user(person.email, sorted(roles_of[person.id]), person=person,
                               actor=actor)
            send_activation(user)
            result["invited"].append(person)
    audit.record(actor, "user.invite_programme", None, programme_id=programme_id,
                 invited=len(result["invited"]))
    return result
