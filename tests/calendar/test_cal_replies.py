"""parse_itip: valid replies, .eml with base64/QP parts, malformed input, fuzz."""

from __future__ import annotations

import base64
import quopri
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from cal_helpers import make_spec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentormatch.calendar import ItipError, build_reply, build_request, parse_itip
from mentormatch.calendar.replies import ERROR_CODES

WIB = ZoneInfo("Asia/Jakarta")
SPEC = make_spec("Asia/Jakarta", datetime(2027, 1, 11, 9, 0, tzinfo=WIB), sequence=1)
REPLY = build_reply(
    SPEC,
    "Mentor.Satu@example.go.id",
    "ACCEPTED",
    dtstamp=datetime(2026, 11, 2, 1, 2, 3, tzinfo=UTC),
)


def eml(
    ics: bytes,
    *,
    cte: str = "base64",
    method: str | None = "REPLY",
    sender: str = "Dr. Siti <Mentor.Satu@Example.go.id>",
) -> bytes:
    body = base64.encodebytes(ics) if cte == "base64" else quopri.encodestring(ics)
    ctype = "text/calendar; charset=UTF-8" + (f"; method={method}" if method else "")
    return (
        (
            f"From: {sender}\r\nTo: program@mentormatch.example.go.id\r\nSubject: Accepted\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XYZ\r\n\r\n"
            "--XYZ\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nAccepted\r\n"
            f"--XYZ\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
        ).encode()
        + body
        + b"\r\n--XYZ--\r\n"
    )


def test_valid_reply_ics():
    p = parse_itip(REPLY)
    assert p.method == "REPLY"
    assert p.uid == SPEC.uid
    assert p.sequence == 1
    assert p.attendee_email == "mentor.satu@example.go.id"
    assert p.partstat == "ACCEPTED"
    assert p.recurrence_id is None
    assert p.dtstamp == datetime(2026, 11, 2, 1, 2, 3, tzinfo=UTC)
    assert p.sender is None
    assert p.organizer_email == "program@mentormatch.example.go.id"


def test_reply_for_one_occurrence_has_utc_recurrence_id():
    rid = SPEC.occurrence_starts()[2]
    p = parse_itip(build_reply(SPEC, "mentee@example.go.id", "DECLINED", recurrence_id=rid))
    assert p.recurrence_id == rid.astimezone(UTC)
    assert p.recurrence_id.tzinfo == UTC
    assert p.partstat == "DECLINED"


@pytest.mark.parametrize("cte", ["base64", "quoted-printable"])
def test_eml_with_encoded_calendar_part(cte):
    p = parse_itip(eml(REPLY, cte=cte))
    assert p.sender == "mentor.satu@example.go.id"
    assert p.attendee_email == "mentor.satu@example.go.id"
    assert p.partstat == "ACCEPTED"


def test_method_only_in_content_type():
    ics = REPLY.replace(b"METHOD:REPLY\r\n", b"")
    assert parse_itip(eml(ics)).method == "REPLY"


def _strip(ics: bytes, prefix: bytes) -> bytes:
    return b"\r\n".join(line for line in ics.split(b"\r\n") if not line.startswith(prefix))


MALFORMED = {
    "empty": b"   ",
    "too_large": b"BEGIN:VCALENDAR\r\n" + b"X" * (1024 * 1024 + 1),
    "not_calendar": b"Hello, this is just text.\r\n",
    "not_calendar_mime": eml(b"just words, not ics"),
    "malformed_ics": b"BEGIN:VCALENDAR\r\nthis is : not ; valid\r\n",
    "no_method": REPLY.replace(b"METHOD:REPLY\r\n", b""),
    "bad_method": REPLY.replace(b"METHOD:REPLY", b"METHOD:SHOUT"),
    "method_mismatch": eml(REPLY, method="REQUEST"),
    "no_vevent": b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n",
    "no_uid": _strip(REPLY, b"UID:"),
    "bad_sequence": REPLY.replace(b"SEQUENCE:1", b"SEQUENCE:-4"),
    "no_attendee": _strip(REPLY, b"ATTENDEE"),
    "multiple_attendees": build_request(SPEC).replace(b"METHOD:REQUEST", b"METHOD:REPLY"),
    "bad_partstat": REPLY.replace(b"PARTSTAT=ACCEPTED", b"PARTSTAT=MAYBE"),
    "bad_recurrence_id": REPLY.replace(
        b"DTSTART;", b"RECURRENCE-ID:20270111T090000\r\nDTSTART;", 1
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_inputs_give_typed_codes(name):
    code = name.removesuffix("_mime")
    assert code in ERROR_CODES
    with pytest.raises(ItipError) as info:
        parse_itip(MALFORMED[name])
    assert info.value.code == code, info.value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes_only_itip_error(data):
    try:
        parse_itip(data)
    except ItipError as exc:
        assert exc.code in ERROR_CODES


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_reply_only_itip_error(data):
    base = bytearray(data.draw(st.sampled_from([REPLY, eml(REPLY)])))
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(base) - 1))
        op = data.draw(st.sampled_from(["flip", "cut", "dup"]))
        if op == "flip":
            base[i] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del base[i : i + data.draw(st.integers(1, 40))]
        else:
            base[i:i] = base[i : i + 30]
        if not base:
            break
    try:
        parse_itip(bytes(base))
    except ItipError as exc:
        assert exc.code in ERROR_CODES


def test_supersedes_ordering():
    from mentormatch.calendar.replies import supersedes

    t1 = datetime(2026, 11, 1, tzinfo=UTC)
    t2 = datetime(2026, 11, 2, tzinfo=UTC)
    assert supersedes(2, t1, 1, t2)
    assert not supersedes(1, t2, 2, t1)
    assert supersedes(1, t2, 1, t1)
    assert not supersedes(1, t1, 1, t1)  # duplicate is stale
    assert not supersedes(1, t1, 1, t2)
