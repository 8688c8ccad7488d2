"""REST API clients: created by an admin with scopes, a secret shown once (only its SHA-256 is
stored: the secret is 32 random bytes, so a fast hash is enough and checks stay cheap), revoked
at any time; every call is written to the call log."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import API_SCOPES, Actor, ApiCall, ApiClient, utcnow
from . import audit
from .errors import ServiceError

TOKEN_PREFIX = "mm"


class ApiClientError(ServiceError):
    messages = {
        "name": _l("Give the client a name (at most 200 characters)."),
        "no_scope": _l("Choose at least one scope."),
        "unknown_scope": _l("Unknown scope."),
    }
    fallback = _l("The change could not be saved.")


@dataclass(frozen=True)
class NewClient:
    client: ApiClient
    token: str  # "mm_<key id>_<secret>": shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_client(actor: Actor, name: str, scopes: list[str]) -> NewClient:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ApiClientError("name")
    wanted = sorted(set(scopes))
    if not wanted:
        raise ApiClientError("no_scope")
    if any(s not in API_SCOPES for s in wanted):
        raise ApiClientError("unknown_scope")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    client = ApiClient(name=name, key_id=key_id, secret_hash=_hash(secret), scopes=wanted,
                       created_by_id=getattr(actor, "id", None))
    db.session.add(client)
    db.session.flush()
    audit.record(actor, "api_client.create", client, name=name, scopes=wanted)
    return NewClient(client, f"{TOKEN_PREFIX}_{key_id}_{secret}")


def revoke_client(actor: Actor, client: ApiClient) -> None:
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        audit.record(actor, "api_client.revoke", client, name=client.name)
        db.session.flush()


def list_clients() -> list[ApiClient]:
    return list(db.session.scalars(select(ApiClient).order_by(ApiClient.id)))


def key_id_of(token: str) -> str | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1][:32]


def authenticate(token: str) -> ApiClient | None:
    """The active client this bearer token belongs to, else None (unknown, wrong, revoked)."""
    key_id = key_id_of(token)
    if key_id is None:
        return None
    client = db.session.scalar(select(ApiClient).where(ApiClient.key_id == key_id))
    secret = token.split("_", 2)[2]
    if client is None or not hmac.compare_digest(client.secret_hash, _hash(secret)):
        return None
    if client.revoked_at is not None:
        return None
    return client


def record_call(client_id: int | None, method: str, path: str, status: int,
                remote_addr: str | None, records: int | None = None) -> None:
    db.session.add(ApiCall(client_id=client_id, method=method[:10], path=path[:500],
                           status=status, remote_addr=(remote_addr or "")[:64] or None,
                           records=records))
    if client_id is not None and status < 400:
        client = db.session.get(ApiClient, client_id)
        if client is not None:
            client.last_used_at = utcnow()
    db.session.flush()
