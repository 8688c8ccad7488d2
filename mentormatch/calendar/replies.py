"""Parse inbound iTIP messages (.ics or a whole .eml) into a small typed record.

Garbage never escapes as a random exception: every failure is an :class:`ItipError` with a code.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import Message

import icalendar

from .model import REPLY_PARTSTATS, normalise_email

MAX_BYTES = 1024 * 1024
METHODS = frozenset(
    {"PUBLISH", "REQUEST", "REPLY", "ADD", "CANCEL", "REFRESH", "COUNTER", "DECLINECOUNTER"}
)
#: Every code :class:`ItipError` can carry.
ERROR_CODES = frozenset(
    {
        "empty",
        "too_large",
        "not_calendar",
        "malformed_mime",
        "malformed_ics",
        "no_method",
        "bad_method",
        "method_mismatch",
        "no_vevent",
        "multiple_uids",
        "no_uid",
        "bad_sequence",
        "bad_dtstamp",
        "no_attendee",
        "multiple_attendees",
        "bad_attendee",
        "bad_partstat",
        "bad_recurrence_id",
    }
)


class ItipError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ParsedItip:
    method: str
    uid: str
    sequence: int
    dtstamp: datetime | None
    attendee_email: str | None
    partstat: str | None
    recurrence_id: datetime | None
    sender: str | None
    organizer_email: str | None = None
    attendees: tuple[tuple[str, str | None], ...] = ()


def _is_ics(data: bytes) -> bool:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper()
    return head.startswith(b"BEGIN:VCALENDAR")


def _calendar_part(msg: Message) -> tuple[bytes, str | None]:
    fallback: tuple[bytes, str | None] | None = None
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        is_cal = ctype == "text/calendar"
        is_att = ctype in {"application/ics", "application/octet-stream"} and (
            ctype == "application/ics" or filename.endswith(".ics")
        )
        if not (is_cal or is_att):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        method = part.get_param("method") if is_cal else None
        method_s = str(method).upper() if isinstance(method, str) and method else None
        if is_cal:
            return payload, method_s
        fallback = fallback or (payload, None)
    if fallback:
        return fallback
    raise ItipError("not_calendar", "the message has no text/calendar part")


def _aware_utc(value: object, code: str, what: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ItipError(code, f"{what} has no time zone")
        return value.astimezone(UTC)
    if isinstance(value, date):
        raise ItipError(code, f"{what} is a date, not a date-time")
    raise ItipError(code, f"{what} is not a date-time")


def parse_itip(data: bytes, *, max_bytes: int = MAX_BYTES) -> ParsedItip:
    """Parse an iTIP .ics or .eml. Raises :class:`ItipError` on anything malformed."""
    try:
        return _parse(data, max_bytes)
    except ItipError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract: only ItipError escapes
        name = type(exc).__name__
        raise ItipError("malformed_ics", f"unreadable calendar data ({name})") from exc


def _parse(data: bytes, max_bytes: int) -> ParsedItip:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    data = bytes(data)
    if not data.strip():
        raise ItipError("empty", "no data")
    if len(data) > max_bytes:
        raise ItipError("too_large", f"more than {max_bytes} bytes")
    sender: str | None = None
    header_method: str | None = None
    if _is_ics(data):
        ics = data
    else:
        try:
            msg = email.message_from_bytes(data, policy=email.policy.compat32)
            if not msg.keys():
                raise ItipError("not_calendar", "neither an iCalendar object nor a MIME message")
            ics, header_method = _calendar_part(msg)
            raw_from = msg.get("From")
            if raw_from:
                addr = email.utils.parseaddr(str(raw_from))[1]
                sender = normalise_email(addr) if "@" in addr else None
        except ItipError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ItipError("malformed_mime", f"unreadable e-mail ({type(exc).__name__})") from exc
        if len(ics) > max_bytes:
            raise ItipError("too_large", f"calendar part is more than {max_bytes} bytes")
        if not _is_ics(ics):
            raise ItipError("not_calendar", "the calendar part is not an iCalendar object")
    try:
        cal = icalendar.Calendar.from_ical(ics)
    except Exception as exc:  # noqa: BLE001
        raise ItipError("malformed_ics", f"unparseable iCalendar ({exc})"[:300]) from exc
    if not isinstance(cal, icalendar.Calendar) or cal.name != "VCALENDAR":
        raise ItipError("not_calendar", "top-level component is not VCALENDAR")

    body_method = str(cal.get("METHOD", "")).strip().upper() or None
    if body_method and header_method and body_method != header_method:
        raise ItipError(
            "method_mismatch", f"Content-Type says {header_method}, body says {body_method}"
        )
    method = body_method or header_method
    if not method:
        raise ItipError("no_method", "no METHOD in the calendar or its Content-Type")
    if method not in METHODS:
        raise ItipError("bad_method", f"unknown METHOD {method!r}")

    events = [c for c in cal.walk("VEVENT")]
    if not events:
        raise ItipError("no_vevent", "no VEVENT in the calendar")
    uids = {str(e.get("UID", "")).strip() for e in events}
    if len(uids) > 1:
        raise ItipError("multiple_uids", "VEVENTs with different UIDs")
    uid = uids.pop()
    if not uid:
        raise ItipError("no_uid", "VEVENT has no UID")
    ev = events[0]

    raw_seq = ev.get("SEQUENCE", 0)
    try:
        sequence = int(str(raw_seq).strip())
    except ValueError as exc:
        raise ItipError("bad_sequence", f"SEQUENCE {raw_seq!r} is not an integer") from exc
    if sequence < 0:
        raise ItipError("bad_sequence", "SEQUENCE is negative")

    dtstamp = None
    if ev.get("DTSTAMP") is not None:
        dtstamp = _aware_utc(ev.decoded("DTSTAMP"), "bad_dtstamp", "DTSTAMP")

    recurrence_id = None
    if ev.get("RECURRENCE-ID") is not None:
        recurrence_id = _aware_utc(
            ev.decoded("RECURRENCE-ID"), "bad_recurrence_id", "RECURRENCE-ID"
        )

    raw_att = ev.get("ATTENDEE")
    att_list = [] if raw_att is None else (raw_att if isinstance(raw_att, list) else [raw_att])
    attendees: list[tuple[str, str | None]] = []
    for a in att_list:
        addr = normalise_email(str(a))
        if "@" not in addr or any(c.isspace() for c in addr):
            raise ItipError("bad_attendee", f"ATTENDEE {str(a)[:80]!r} is not an e-mail address")
        params = getattr(a, "params", {}) or {}
        ps = params.get("PARTSTAT")
        attendees.append((addr, str(ps).upper() if ps else None))

    org = ev.get("ORGANIZER")
    organizer = normalise_email(str(org)) if org is not None else None

    attendee_email: str | None = None
    partstat: str | None = None
    if method == "REPLY":
        if not attendees:
            raise ItipError("no_attendee", "a REPLY must name its ATTENDEE")
        if len(attendees) > 1:
            raise ItipError("multiple_attendees", "a REPLY must carry exactly one ATTENDEE")
        attendee_email, partstat = attendees[0]
        if partstat not in REPLY_PARTSTATS:
            raise ItipError("bad_partstat", f"PARTSTAT {partstat!r} is not a reply status")
    elif len(attendees) == 1:
        attendee_email, partstat = attendees[0]

    return ParsedItip(
        method=method,
        uid=uid,
        sequence=sequence,
        dtstamp=dtstamp,
        attendee_email=attendee_email,
        partstat=partstat,
        recurrence_id=recurrence_id,
        sender=sender,
        organizer_email=organizer,
        attendees=tuple(attendees),
    )


def supersedes(
    seq: int, dtstamp: datetime | None, current_seq: int, current_dtstamp: datetime | None
) -> bool:
    """RFC 5546 2.1.5 ordering: does a message (seq, dtstamp) replace the stored one?

    Higher SEQUENCE wins; on equal SEQUENCE the later DTSTAMP wins. Equal or older -> stale.
    """
    if seq != current_seq:
        return seq > current_seq
    if dtstamp is None or current_dtstamp is None:
        return current_dtstamp is None and dtstamp is not None
    return dtstamp > current_dtstamp
