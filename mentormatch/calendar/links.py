"""Signed one-click RSVP tokens (Accept / Decline links in the invitation mail)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer

from .model import normalise_email

SALT = "mentormatch.calendar.rsvp.v1"
TOKEN_PARTSTATS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE"})


class RsvpTokenError(ValueError):
    """``code`` is one of ``bad_signature``, ``malformed``, ``expired``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class RsvpToken:
    series_uid: str
    attendee_email: str
    partstat: str
    sequence: int
    expires_at: datetime
    recurrence_id: datetime | None = None


@lru_cache(maxsize=8)
def _serializer(secret: str | bytes) -> URLSafeSerializer:
    """Stateless once built (cached: an approval signs four links per pair)."""
    if not secret:
        raise ValueError("an RSVP secret is required")
    return URLSafeSerializer(secret, salt=SALT)


def sign_rsvp(
    secret: str | bytes,
    series_uid: str,
    attendee_email: str,
    partstat: str,
    sequence: int,
    expires_at: datetime,
    recurrence_id: datetime | None = None,
) -> str:
    partstat = partstat.upper()
    if partstat not in TOKEN_PARTSTATS:
        raise ValueError(f"PARTSTAT {partstat!r} cannot be sent by link")
    if expires_at.tzinfo is None or (recurrence_id is not None and recurrence_id.tzinfo is None):
        raise ValueError("datetimes must be timezone-aware")
    payload = {
        "u": series_uid,
        "e": normalise_email(attendee_email),
        "p": partstat,
        "s": int(sequence),
        "x": int(expires_at.timestamp()),
    }
    if recurrence_id is not None:
        payload["r"] = int(recurrence_id.timestamp())
    return _serializer(secret).dumps(payload)


def verify_rsvp(secret: str | bytes, token: str, now: datetime) -> RsvpToken:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    try:
        data = _serializer(secret).loads(token)
    except BadSignature as exc:
        raise RsvpTokenError("bad_signature", "the link is invalid or was altered") from exc
    except Exception as exc:  # noqa: BLE001
        raise RsvpTokenError("malformed", "the link could not be read") from exc
    try:
        rsvp = RsvpToken(
            series_uid=str(data["u"]),
            attendee_email=str(data["e"]),
            partstat=str(data["p"]),
            sequence=int(data["s"]),
            expires_at=datetime.fromtimestamp(int(data["x"]), UTC),
            recurrence_id=datetime.fromtimestamp(int(data["r"]), UTC) if "r" in data else None,
        )
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise RsvpTokenError("malformed", "the link payload is incomplete") from exc
    if rsvp.partstat not in TOKEN_PARTSTATS:
        raise RsvpTokenError("malformed", "unknown answer in link")
    if now >= rsvp.expires_at:
        raise RsvpTokenError("expired", "the link has expired")
    return rsvp
