"""Parse inbound iTIP messages (.ics or a whole .eml) into a small typed record.

Garbage never escapes as a random exception: every failure is an :class:`ItipError` with a code.
A REPLY may carry several VEVENTs with one UID (Thunderbird answers a series with exceptions as
the master plus one VEVENT per ``RECURRENCE-ID``): each becomes a :class:`ParsedEvent`. A
missing ``SEQUENCE`` stays ``None`` (RFC 5546 orders such a message by its ``DTSTAMP``).
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
#: a whole e-mail may be much larger than its calendar part (an Outlook signature image, an
#: attachment): the calendar cap (MAX_BYTES) applies to the part, this one to the message
MAX_MAIL_BYTES = 25 * 1024 * 1024
#: VEVENTs in one calendar object (a series plus its exceptions)
MAX_EVENTS = 500
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
        "mixed_attendees",
        "bad_dtstart",
    }
)


class ItipError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    """One VEVENT: the series (``recurrence_id`` None) or one occurrence."""

    recurrence_id: datetime | None
    sequence: int | None  # None: the VEVENT had no SEQUENCE
    dtstamp: datetime | None
    attendee_email: str | None
    partstat: str | None
    attendees: tuple[tuple[str, str | None], ...] = ()
    dtstart: datetime | None = None  # UTC (COUNTER: the proposed time)
    dtend: datetime | None = None
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ParsedItip:
    method: str
    uid: str
    sequence: int  # of the first event, 0 when absent (see ``events`` for the exact values)
    dtstamp: datetime | None
    attendee_email: str | None
    partstat: str | None
    recurrence_id: datetime | None
    sender: str | None  # From address of an .eml, lower-case
    organizer_email: str | None = None
    attendees: tuple[tuple[str, str | None], ...] = ()
    events: tuple[ParsedEvent, ...] = ()
    sender_header: str | None = None  # the Sender: address ("on behalf of"), lower-case
    auth_results: tuple[str, ...] = ()  # Authentication-Results values, topmost first


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
    is_ics = _is_ics(data)
    if len(data) > (max_bytes if is_ics else max(max_bytes, MAX_MAIL_BYTES)):
        raise ItipError("too_large", f"more than {max_bytes if is_ics else MAX_MAIL_BYTES} "
                                     "bytes")
    sender: str | None = None
    sender_header: str | None = None
    auth_results: tuple[str, ...] = ()
    header_method: str | None = None
    if is_ics:
        ics = data
    else:
        try:
            msg = email.message_from_bytes(data, policy=email.policy.compat32)
            if not msg.keys():
                raise ItipError("not_calendar", "neither an iCalendar object nor a MIME message")
            ics, header_method = _calendar_part(msg)
            sender = _address(msg.get("From"))
            sender_header = _address(msg.get("Sender"))
            auth_results = tuple(str(v) for v in msg.get_all("Authentication-Results") or ())
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
    if len(events) > MAX_EVENTS:
        raise ItipError("too_large", f"more than {MAX_EVENTS} VEVENTs")
    uids = {str(e.get("UID", "")).strip() for e in events}
    if len(uids) > 1:
        raise ItipError("multiple_uids", "VEVENTs with different UIDs")
    uid = uids.pop()
    if not uid:
        raise ItipError("no_uid", "VEVENT has no UID")
    parsed = [_event(ev, method) for ev in events]
    if method == "REPLY":
        who = {e.attendee_email for e in parsed}
        if len(who) > 1:
            raise ItipError("mixed_attendees", "the VEVENTs of one REPLY name different attendees")
    # the series first, then its occurrences in order
    parsed.sort(key=lambda e: (e.recurrence_id is not None, e.recurrence_id or _EPOCH))
    first = parsed[0]
    org = events[0].get("ORGANIZER")
    organizer = normalise_email(str(org)) if org is not None else None
    return ParsedItip(
        method=method,
        uid=uid,
        sequence=first.sequence or 0,
        dtstamp=first.dtstamp,
        attendee_email=first.attendee_email,
        partstat=first.partstat,
        recurrence_id=first.recurrence_id,
        sender=sender,
        organizer_email=organizer,
        attendees=first.attendees,
        events=tuple(parsed),
        sender_header=sender_header,
        auth_results=auth_results,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _address(raw: object) -> str | None:
    if not raw:
        return None
    addr = email.utils.parseaddr(str(raw))[1]
    return normalise_email(addr) if "@" in addr else None


def _event(ev: icalendar.cal.Component, method: str) -> ParsedEvent:
    sequence: int | None = None
    raw_seq = ev.get("SEQUENCE")
    if raw_seq is not None:
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

    dtstart = dtend = None
    if method == "COUNTER":
        if ev.get("DTSTART") is None:
            raise ItipError("bad_dtstart", "a COUNTER must propose a DTSTART")
        dtstart = _aware_utc(ev.decoded("DTSTART"), "bad_dtstart", "DTSTART")
        if ev.get("DTEND") is not None:
            dtend = _aware_utc(ev.decoded("DTEND"), "bad_dtstart", "DTEND")
        elif ev.get("DURATION") is not None:
            dtend = dtstart + ev.decoded("DURATION")
        if dtend is not None and dtend <= dtstart:
            raise ItipError("bad_dtstart", "the proposed end is not after its start")

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
    comment = str(ev.get("COMMENT", "") or "")[:500]
    return ParsedEvent(recurrence_id, sequence, dtstamp, attendee_email, partstat,
                       tuple(attendees), dtstart, dtend, comment)


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
