"""iMIP (RFC 6047) e-mail layout for calendar invitations."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

_METHOD_RE = re.compile(rb"^METHOD:([A-Za-z-]+)\r?$", re.MULTILINE)


def ics_method(ics: bytes) -> str | None:
    """The METHOD written in an iCalendar object, if any."""
    m = _METHOD_RE.search(ics)
    return m.group(1).decode("ascii").upper() if m else None


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
    """multipart/mixed[ multipart/alternative[text/plain, text/html, text/calendar;
    method=...; charset=UTF-8], application/ics attachment ]."""
    method = method.upper()
    inside = ics_method(ics)
    if inside != method:
        raise ValueError(f"method {method!r} differs from METHOD {inside!r} inside the .ics")
    if msgid_domain is None:
        addr = parseaddr(from_addr)[1]
        msgid_domain = addr.rpartition("@")[2] or "mentormatch.local"
    msg = EmailMessage()
    msg["From"] = from_addr
    msg["To"] = to_addr
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=msgid_domain)
    if language:
        msg["Content-Language"] = language
    msg.set_content(text_body, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html_body, subtype="html", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(
        ics,
        maintype="text",
        subtype="calendar",
        cte="base64",
        params={"method": method, "charset": "UTF-8"},
    )
    msg.add_attachment(
        ics,
        maintype="application",
        subtype="ics",
        filename=filename,
        cte="base64",
        params={"name": filename},
    )
    return msg
