"""Single sign-on decisions: which local account a provider identity is, and its roles.

First login links the provider account (issuer + subject) to the person with the NIP in the
NIP claim, else to the account or person with the *verified* e-mail. Roles come only from
provider groups an admin mapped to a role (they are added, never taken away: roles an admin
gave by hand stay). The caller (the view) has already checked the ID token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import ROLES, Actor, Person, SsoGroupRole, SsoIdentity, User, UserRole
from ..settings import SsoSettings
from . import audit
from .accounts import find_user
from .errors import ServiceError

#: Stands in for a password on accounts that only sign in through the provider: the account
#: is active, and no password matches it (it is not a valid hash).
SSO_ONLY = "!sso"


class SsoRefused(ServiceError):
    """A refused sign-in (the token checks the view makes, and this module's own) or group
    mapping."""

    messages = {
        "aud": _l("The sign-in token was issued for another application (audience)."),
        "iss": _l("The sign-in token comes from another provider than the one configured "
                  "(issuer)."),
        "exp": _l("The sign-in token has expired. Check the clocks of the server and the "
                  "provider."),
        "signature": _l("The sign-in token's signature is not valid."),
        "nonce": _l("The sign-in token does not belong to this sign-in (nonce)."),
        "state": _l("This sign-in was not started here or was already used. Start again."),
        "provider": _l("The provider refused the sign-in."),
        "token": _l("The sign-in token could not be checked."),
        "no_match": _l("No staff record or account matches your NIP or verified e-mail. Ask "
                       "your coordinator to import you or to invite your e-mail address."),
        "domain": _l("Your e-mail domain is not allowed to sign in here."),
        "inactive": _l("Your account is deactivated."),
        "no_subject": _l("The provider sent no subject identifier."),
        "bad_mapping": _l("Give a group name and choose a role."),
    }
    fallback = messages["token"]


def _nip(value: Any) -> str | None:
    text = "".join(ch for ch in str(value or "") if ch.isdigit())
    return text if len(text) == 18 else None


def sign_in(claims: dict[str, Any], issuer: str, settings: SsoSettings) -> User:
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SsoRefused("no_subject")
    email = str(claims.get(settings.email_claim) or "").strip().lower()
    verified = claims.get("email_verified") is True
    nip = _nip(claims.get(settings.nip_claim))
    domains = [d.lower().lstrip("@") for d in settings.allowed_domains]
    if domains and (not email or email.rsplit("@", 1)[-1] not in domains):
        raise SsoRefused("domain")

    now = datetime.now(UTC)
    identity = db.session.scalar(select(SsoIdentity).where(
        SsoIdentity.issuer == issuer, SsoIdentity.subject == subject))
    if identity is not None:
        user = db.session.get(User, identity.user_id)
    else:
        user, linked_by = _first_login(email if verified else "", nip)
        identity = SsoIdentity(issuer=issuer, subject=subject, user_id=user.id,
                               linked_by=linked_by)
        db.session.add(identity)
        audit.record(user, "sso.link", user, issuer=issuer, linked_by=linked_by)
    if user is None or not user.active:
        raise SsoRefused("inactive")
    if user.password_hash is None:  # invited, never activated: the provider vouches for them
        user.password_hash = SSO_ONLY
        user.activated_at = now
    _grant_mapped_roles(user, claims.get(settings.groups_claim))
    user.last_login_at = now
    identity.last_login_at = now
    db.session.flush()
    return user


def _first_login(email: str, nip: str | None) -> tuple[User, str]:
    person = None
    linked_by = "nip"
    if nip:
        person = db.session.scalar(select(Person).where(Person.nip == nip))
    if person is None and email:
        linked_by = "email"
        person = db.session.scalar(select(Person).where(func.lower(Person.email) == email))
    user = None
    if person is not None:
        user = db.session.scalar(select(User).where(User.person_id == person.id))
    if user is None and email:
        user = find_user(email)
        linked_by = "email" if user is not None else linked_by
        if user is not None and person is not None and user.person_id is None:
            user.person_id = person.id
    if user is None and person is not None:
        if find_user(person.email) is not None:
            raise SsoRefused("no_match")
        user = User(email=person.email.lower(), person_id=person.id, password_hash=SSO_ONLY,
                    activated_at=datetime.now(UTC))
        db.session.add(user)
        db.session.flush()
        audit.record(None, "user.create", user, roles=[], via="sso")
    if user is None:
        raise SsoRefused("no_match")
    return user, linked_by


def _grant_mapped_roles(user: User, groups: Any) -> None:
    if isinstance(groups, str):
        groups = [groups]
    names = [str(g) for g in groups or [] if g]
    if not names:
        return
    mapped = set(db.session.scalars(select(SsoGroupRole.role).where(
        SsoGroupRole.group_name.in_(names))))
    for role in sorted(mapped - user.roles):
        if role in ROLES:
            user.role_rows.append(UserRole(role=role))
            audit.record(None, "sso.role", user, role=role)


def group_mappings() -> list[SsoGroupRole]:
    return list(db.session.scalars(select(SsoGroupRole).order_by(SsoGroupRole.group_name,
                                                                 SsoGroupRole.role)))


def map_group(actor: Actor, group: str, role: str) -> None:
    group = group.strip()
    if not group or len(group) > 200 or role not in ROLES:
        raise SsoRefused("bad_mapping")
    exists = db.session.scalar(select(SsoGroupRole).where(
        SsoGroupRole.group_name == group, SsoGroupRole.role == role))
    if exists is None:
        db.session.add(SsoGroupRole(group_name=group, role=role))
        audit.record(actor, "sso.map_group", None, group=group, role=role)
        db.session.flush()


def unmap_group(actor: Actor, mapping_id: int) -> None:
    row = db.session.get(SsoGroupRole, mapping_id)
    if row is not None:
        audit.record(actor, "sso.unmap_group", None, group=row.group_name, role=row.role)
        db.session.delete(row)
        db.session.flush()
