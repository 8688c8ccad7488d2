"""iMIP mail layout and signed RSVP links."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cal_helpers import make_spec

from mentormatch.calendar import (
    RsvpTokenError,
    build_cancel,
    build_request,
    compose_invite_bytes,
    compose_invite_email,
    parse_itip,
    sign_rsvp,
    verify_rsvp,
)

SPEC = make_spec("Asia/Makassar", datetime(2027, 1, 11, 10, 0, tzinfo=ZoneInfo("Asia/Makassar")))


def compose(ics: bytes, method: str):
    return compose_invite_email(
        from_addr="Program MentorMatch <program@mentormatch.example.go.id>",
        to_addr="Dr. Ŝiti Nurhaliza <mentor.satu@example.go.id>",
        subject="Undangan sesi mentoring — Kerja Sama",
        text_body="Yth. Ibu Ŝiti,\nAnda diundang sebagai mentor. Terima kasih 🙏",
        html_body="<p>Yth. Ibu Ŝiti, Anda diundang sebagai <b>mentor</b>.</p>",
        ics=ics,
        method=method,
        msgid_domain="mail.mentormatch.example.go.id",
    )


@pytest.mark.parametrize("method,builder", [("REQUEST", build_request), ("CANCEL", build_cancel)])
def test_imip_layout_round_trip(method, builder):
    ics = builder(SPEC)
    raw = compose(ics, method).as_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/mixed"
    alt, att = msg.get_payload()
    assert alt.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alt.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    cal = alt.get_payload()[2]
    assert cal.get_param("method") == method
    assert cal.get_param("charset").upper() == "UTF-8"
    assert cal.get_payload(decode=True) == ics
    assert f"METHOD:{method}".encode() in ics
    assert att.get_content_type() == "application/ics"
    assert att.get_filename() == "invite.ics"
    assert att.get_content_disposition() == "attachment"
    assert att.get_payload(decode=True) == ics
    assert msg["Message-ID"].endswith("@mail.mentormatch.example.go.id>")
    assert "Ŝiti" in str(msg["To"]) and "—" in str(msg["Subject"])
    assert "🙏" in alt.get_payload()[0].get_content()
    assert "Ŝiti Nurhaliza" in cal.get_content()  # CN survives in the calendar part
    assert parse_itip(raw).method == method
    raw.decode("ascii")  # 7-bit clean on the wire


def test_method_must_match_inside():
    with pytest.raises(ValueError):
        compose(build_request(SPEC), "CANCEL")


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_rsvp_token_round_trip():
    rid = SPEC.occurrence_starts()[1]
    tok = sign_rsvp(
        "s3cret",
        SPEC.uid,
        "Mentor.Satu@Example.go.id",
        "accepted",
        2,
        NOW + timedelta(days=7),
        recurrence_id=rid,
    )
    r = verify_rsvp("s3cret", tok, NOW)
    assert (r.series_uid, r.attendee_email, r.partstat, r.sequence) == (
        SPEC.uid,
        "mentor.satu@example.go.id",
        "ACCEPTED",
        2,
    )
    assert r.recurrence_id == rid


def test_rsvp_token_tampered_wrong_key_expired_garbage():
    tok = sign_rsvp("s3cret", SPEC.uid, "a@b.go.id", "DECLINED", 0, NOW + timedelta(hours=1))
    bad = tok[:-2] + ("A" if tok[-2] != "A" else "B") + tok[-1]
    for token, secret, code in [
        (bad, "s3cret", "bad_signature"),
        (tok, "other", "bad_signature"),
        ("garbage", "s3cret", "bad_signature"),
    ]:
        with pytest.raises(RsvpTokenError) as info:
            verify_rsvp(secret, token, NOW)
        assert info.value.code == code
    with pytest.raises(RsvpTokenError) as info:
        verify_rsvp("s3cret", tok, NOW + timedelta(hours=2))
    assert info.value.code == "expired"
    with pytest.raises(ValueError):
        sign_rsvp("s3cret", SPEC.uid, "a@b.go.id", "NEEDS-ACTION", 0, NOW)


def _layout(raw: bytes) -> list[tuple[str, str | None]]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return [(p.get_content_type(), p.get_param("method")) for p in msg.walk()]


@pytest.mark.parametrize("to_addr", [
    "Dr. Ŝiti Nurhaliza <mentor.satu@example.go.id>",  # written directly
    "Ŝiti <ŝiti@contoh.go.id>",  # an internationalised address: the email package writes it
])
def test_invite_bytes_decode_to_exactly_what_was_given(to_addr):
    ics = build_request(SPEC)
    subject = "Undangan mentoring: Dr. Ŝiti Nurhaliza, M.Si & Made Wíjaya — " + "panjang " * 12
    text = "Yth. Ibu Ŝiti,\n\nSesi: Selasa, 12 Jan 2027 09:00 WIB  \n= tanda sama dengan\n"
    html = "<p>Yth. Ibu Ŝiti, <b>mentor</b> 🙏</p>\n"
    mail = compose_invite_bytes(
        from_addr="Program MentorMatch BKPSDM <program@mentormatch.example.go.id>",
        to_addr=to_addr, subject=subject, text_body=text, html_body=html, ics=ics,
        method="REQUEST", msgid_domain="mail.mentormatch.example.go.id", language="id")
    msg = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert not msg.defects and all(not p.defects for p in msg.walk())
    international = "ŝiti@" in to_addr  # then UTF-8 headers (RFC 6532)
    assert _layout(mail.raw) == [("multipart/mixed", None), ("multipart/alternative", None),
                                 ("text/plain", None), ("text/html", None),
                                 ("text/calendar", "REQUEST"), ("application/ics", None)]
    assert msg["Subject"] == " ".join(subject.split()) == mail.subject
    assert msg["Message-ID"].strip() == mail.message_id
    assert msg["Content-Language"] == "id"
    assert msg.get_body(("plain",)).get_content() == text
    assert msg.get_body(("html",)).get_content() == html
    assert parse_itip(mail.raw).method == "REQUEST"
    if international:
        assert "To: Ŝiti <ŝiti@contoh.go.id>".encode() in mail.raw  # no encoded-word in it
    else:
        mail.raw.decode("ascii")  # 7-bit clean
        assert max(len(line) for line in mail.raw.split(b"\n")
                   if not line.startswith(b"Message-ID:")) <= 78  # an id is not folded
        assert str(msg["To"]) == '"Dr. Ŝiti Nurhaliza" <mentor.satu@example.go.id>'
