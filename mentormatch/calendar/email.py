"""iMIP (RFC 6047) e-mail layout for calendar invitations.

:func:`compose_invite_bytes` writes the MIME bytes directly (quoted-printable text, base64
calendar, RFC 2047 headers): the ``email`` package's object model costs milliseconds per
message, which adds up when a round's approval queues two thousand invitations at once.
:func:`compose_invite_email` returns the same bytes parsed, for callers that want a message
object; both give the one layout that clients understand.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import re
import secrets
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache

_METHOD_RE = re.compile(rb"^METHOD:([A-Za-z-]+)\r?$", re.MULTILINE)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


def ics_method(ics: bytes) -> str | None:
    """The METHOD written in an iCalendar object, if any."""
    m = _METHOD_RE.search(ics)
    return m.group(1).decode("ascii").upper() if m else None


@dataclass(frozen=True, slots=True)
class ComposedMail:
    raw: bytes  # the whole message, 7-bit clean, "\n" line ends (as the outbox stores mail)
    message_id: str
    to: str
    subject: str


@lru_cache(maxsize=1024)
def _address(value: str) -> str | None:
    """An address header value: the display name RFC 2047-encoded or quoted as needed;
    None for what only the ``email`` package can write (a non-ASCII address itself)."""
    name, addr = parseaddr(value)
    if not addr or not addr.isascii() or "\n" in value or "\r" in value:
        return None
    return formataddr((name, addr), charset="utf-8")


_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


def _q(ch: str) -> str:
    if ch == " ":
        return "_"
    return "".join(chr(b) if b in _Q_SAFE else f"={b:02X}" for b in ch.encode("utf-8"))


def _unstructured(name: str, value: str) -> str:
    """A folded unstructured header line; non-ASCII text as RFC 2047 Q encoded-words, lines
    of at most 76 characters. Every space is kept inside an encoded-word: readers drop the
    whitespace between two encoded-words (``email.header.Header`` loses one at its splits)."""
    if value.isascii():
        return f"{name}: " + Header(value, "us-ascii", header_name=name).encode(linesep="\n")
    words, current = [], ""
    frame = len("=?utf-8?q??=")
    room = 76 - len(name) - 2 - frame  # the first line also holds "Subject: "
    for ch in value:
        piece = _q(ch)
        if len(current) + len(piece) > room:
            words.append(current)
            current, room = "", 75 - frame
        current += piece
    words.append(current)
    return f"{name}: " + "\n ".join(f"=?utf-8?q?{w}?=" for w in words)


def _text_part(subtype: str, body: str) -> bytes:
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    return (f'Content-Type: text/{subtype}; charset="utf-8"\n'
            "Content-Transfer-Encoding: quoted-printable\n\n").encode("ascii") \
        + binascii.b2a_qp(text.encode("utf-8"), istext=True) + b"\n"


def compose_invite_bytes(
    *,
    from_addr: str,
    to_addr: str,
    subject: str,
    text_body: str,
    html_body: str,
    ics: bytes,
    method: str,
    filename: str = "invite.ics",
    msgid_domain: str | None = None,
    reply_to: str | None = None,
    language: str | None = None,
) -> ComposedMail:
    """multipart/mixed[ multipart/alternative[text/plain, text/html, text/calendar;
    method=...; charset=UTF-8], application/ics attachment ] as bytes."""
    method = method.upper()
    inside = ics_method(ics)
    if inside != method:
        raise ValueError(f"method {method!r} differs from METHOD {inside!r} inside the .ics")
    if msgid_domain is None:
        addr = parseaddr(from_addr)[1]
        msgid_domain = addr.rpartition("@")[2] or "mentormatch.local"
    subject = " ".join(subject.split())  # one line, single spaces
    addresses = [_address(a) for a in (from_addr, to_addr, reply_to or from_addr)]
    if None in addresses or not (filename.isascii() and filename.isprintable()):
        return _composed(_compose_with_email_package(
            from_addr=from_addr, to_addr=to_addr, subject=subject, text_body=text_body,
            html_body=html_body, ics=ics, method=method, filename=filename,
            msgid_domain=msgid_domain, reply_to=reply_to, language=language))
    msgid = make_msgid(domain=msgid_domain)
    outer, inner = (f"===============mm{secrets.token_hex(12)}==" for _ in range(2))
    head = [f"From: {addresses[0]}", f"To: {addresses[1]}"]
    if reply_to:
        head.append(f"Reply-To: {addresses[2]}")
    head += [_unstructured("Subject", subject), f"Date: {formatdate(usegmt=True)}",
             f"Message-ID: {msgid}"]  # one line even when long: readers need no unfolding
    if language and _TOKEN_RE.match(language):
        head.append(f"Content-Language: {language}")
    head += ["MIME-Version: 1.0", f'Content-Type: multipart/mixed;\n boundary="{outer}"', "", ""]
    name = '"' + filename.replace("\\", "\\\\").replace('"', '\\"') + '"'
    calendar = base64.encodebytes(ics)
    raw = b"".join([
        "\n".join(head).encode("ascii"),
        f'--{outer}\nContent-Type: multipart/alternative;\n boundary="{inner}"\n\n'
        f"--{inner}\n".encode("ascii"),
        _text_part("plain", text_body),
        f"--{inner}\n".encode("ascii"),
        _text_part("html", html_body),
        f"--{inner}\n"
        f'Content-Type: text/calendar; charset="UTF-8"; method="{method}"\n'
        "Content-Transfer-Encoding: base64\n\n".encode("ascii"),
        calendar,
        f"\n--{inner}--\n\n--{outer}\n"
        f"Content-Type: application/ics; name={name}\n"
        "Content-Transfer-Encoding: base64\n"
        f"Content-Disposition: attachment; filename={name}\n\n".encode("ascii"),
        calendar,
        f"\n--{outer}--\n".encode("ascii"),
    ])
    return ComposedMail(raw=raw, message_id=msgid, to=to_addr, subject=subject)


def _composed(msg: EmailMessage) -> ComposedMail:
    # an internationalised address goes out with SMTPUTF8 anyway (the transport asks for
    # it): headers in UTF-8 (RFC 6532), no encoded-word inside an address
    utf8 = msg.policy.clone(utf8=True)  # type: ignore[call-arg]  # EmailPolicy's own field
    return ComposedMail(raw=msg.as_bytes(policy=utf8),
                        message_id=str(msg["Message-ID"]), to=str(msg["To"]),
                        subject=str(msg["Subject"]))


def _compose_with_email_package(
    *, from_addr: str, to_addr: str, subject: str, text_body: str, html_body: str, ics: bytes,
    method: str, filename: str, msgid_domain: str, reply_to: str | None,
    language: str | None,
) -> EmailMessage:
    """The same layout through the ``email`` object model (slow; for what the direct writer
    leaves to it: an internationalised address)."""
    msg = EmailMessage()
    msg["From"] = from_addr
    msg["To"] = to_addr
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=msgid_domain)
    msg.set_content(text_body, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html_body, subtype="html", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(ics, maintype="text", subtype="calendar", cte="base64",
                        params={"method": method, "charset": "UTF-8"})
    msg.add_attachment(ics, maintype="application", subtype="ics", filename=filename,
                       cte="base64", params={"name": filename})
    if language:  # after the content: set_content drops Content-* headers set before it
        msg["Content-Language"] = language
    return msg


def compose_invite_email(
    *,
    from_addr: str,
    to_addr: str,
    subject: str,
    text_body: str,
    html_body: str,
    ics: bytes,
    method: str,
    filename: str = "invite.ics",
    msgid_domain: str | None = None,
    reply_to: str | None = None,
    language: str | None = None,
) -> EmailMessage:
    """The message of :func:`compose_invite_bytes`, parsed."""
    mail = compose_invite_bytes(
        from_addr=from_addr, to_addr=to_addr, subject=subject, text_body=text_body,
        html_body=html_body, ics=ics, method=method, filename=filename,
        msgid_domain=msgid_domain, reply_to=reply_to, language=language)
    msg = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg
