"""Outgoing mail transports: SMTP (production) and a local folder (embedded default).

Pure transport: no database, no Flask.  A dispatch job builds an
:class:`email.message.EmailMessage`, hands it to :meth:`SmtpTransport.send` and records the
returned Message-ID.  One transport object keeps one SMTP connection open across many
``send`` calls (use it as a context manager, or call :meth:`~SmtpTransport.close`), and
reconnects transparently when the server dropped an idle connection.

Failures are raised as :class:`TransportError` with ``temporary`` telling the caller whether a
retry later can succeed (connection refused, timeouts, 4xx replies) or not (5xx replies, a
server without STARTTLS when STARTTLS is demanded, bad credentials).
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import email.utils
import logging
import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path
from typing import Any, Literal, Protocol

from .neterrors import check_server, describe_network_error

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "ssl"]


# --------------------------------------------------------------------------- errors


class TransportError(Exception):
    """Sending failed.

    ``temporary`` is True when retrying later may succeed (server down, timeout, 4xx reply,
    connection lost), False when it will not without a change of message or configuration
    (5xx reply, STARTTLS missing, authentication refused, certificate rejected).
    ``smtp_code`` is the server's reply code when there was one.  ``delivery_unknown`` is True
    when the connection broke after the message data was sent, so the server may or may not
    have accepted it (a retry can then produce a duplicate; the Message-ID stays the same, so
    receivers can de-duplicate).
    """

    def __init__(
        self,
        temporary: bool,
        message: str,
        *,
        smtp_code: int | None = None,
        delivery_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.message = message
        self.smtp_code = smtp_code
        self.delivery_unknown = delivery_unknown

    @property
    def permanent(self) -> bool:
        return not self.temporary

    def __repr__(self) -> str:
        kind = "temporary" if self.temporary else "permanent"
        return f"TransportError({kind}, {self.message!r}, smtp_code={self.smtp_code})"


class SendAborted(TransportError):
    """The caller's ``before_data`` hook said no (e.g. its claim on the outbox row was lost):
    the transaction was reset before DATA, so nothing was delivered."""

    def __init__(self, message: str = "aborted before DATA by the caller") -> None:
        super().__init__(False, message)


#: Called right before the message data is handed over (after the envelope was accepted).
#: Returning False aborts the send (:class:`SendAborted`); nothing is delivered.
BeforeData = Callable[[], bool]


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to submit mail.  The password comes from the environment, read by the
    caller (never from a config file)."""

    host: str = "localhost"
    port: int = 25
    security: Security = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    #: name sent in EHLO/HELO; None lets smtplib use the machine's FQDN
    local_hostname: str | None = None
    #: TLS context for 'ssl'/'starttls'; None means ssl.create_default_context()
    #: (certificate and host name verified)
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    #: reconnect after this many messages on one connection (0 = never); some providers
    #: limit messages per session
    max_messages_per_connection: int = 100

    def __post_init__(self) -> None:
        check_server("SMTP", self.security, self.host, self.port)
        if self.timeout <= 0:
            raise ValueError("SMTP timeout must be positive")
        if self.max_messages_per_connection < 0:
            raise ValueError("max_messages_per_connection must be >= 0")
        if self.password is not None and not self.username:
            raise ValueError("SMTP password given without a username")

    # ``helo`` is accepted as an alias of local_hostname in from_mapping
    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], **overrides: Any) -> SmtpSettings:
        """Build from a config mapping (e.g. a TOML table); unknown keys are an error.
        ``overrides`` (e.g. ``password=os.environ[...]``) win over ``data``."""
        merged = dict(data)
        if "helo" in merged:
            merged["local_hostname"] = merged.pop("helo")
        merged.update(overrides)
        return cls(**_checked_kwargs(cls, merged, "SMTP"))


def _checked_kwargs(cls: type, data: Mapping[str, Any], what: str) -> dict[str, Any]:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {what} setting(s): {', '.join(unknown)}")
    return dict(data)


# --------------------------------------------------------------------------- helpers


def ensure_message_id(msg: EmailMessage, domain: str | None = None) -> str:
    """Return the message's Message-ID, adding a fresh one (and a Date) when missing."""
    msgid = msg.get("Message-ID")
    if not msgid or not str(msgid).strip():
        if "Message-ID" in msg:
            del msg["Message-ID"]
        if domain is None:
            domain = _domain_of(msg.get("From")) or "mentormatch.invalid"
        msgid = email.utils.make_msgid(domain=domain)
        msg["Message-ID"] = msgid
    if "Date" not in msg:
        msg["Date"] = email.utils.format_datetime(datetime.now(UTC))
    return str(msgid).strip()


def restamp_date(data: bytes, when: datetime) -> bytes:
    """Set the ``Date`` header of serialised message bytes to ``when`` (send time rather than
    queue time); everything else, Message-ID included, stays exactly as stored."""
    m = re.search(rb"\r?\n\r?\n", data)
    head, rest = (data, b"") if m is None else (data[: m.start()], data[m.start():])
    eol = b"\r\n" if b"\r\n" in head else b"\n"
    value = b"Date: " + email.utils.format_datetime(when.astimezone(UTC)).encode("ascii")
    out: list[bytes] = []
    replaced = skipping = False
    for line in re.split(rb"\r?\n", head):
        if skipping and line[:1] in (b" ", b"\t"):
            continue  # a folded continuation of the old Date header
        skipping = False
        if not replaced and line[:5].lower() == b"date:":
            out.append(value)
            replaced = skipping = True
            continue
        out.append(line)
    if not replaced:
        out.insert(0, value)
    return eol.join(out) + rest


def _domain_of(header: object) -> str | None:
    if not header:
        return None
    addrs = email.utils.getaddresses([str(header)])
    for _name, addr in addrs:
        if "@" in addr:
            return addr.rsplit("@", 1)[1].strip().strip(">") or None
    return None


def _envelope(
    msg: EmailMessage, envelope_from: str | None, recipients: Iterable[str] | None
) -> tuple[str, list[str]]:
    if envelope_from is None:
        for hdr in ("Sender", "From"):
            values = msg.get_all(hdr)
            if values:
                addrs = [a for _n, a in email.utils.getaddresses([str(v) for v in values]) if a]
                if addrs:
                    envelope_from = addrs[0]
                    break
        else:
            envelope_from = ""
    if recipients is None:
        values = [str(v) for h in ("To", "Cc", "Bcc") for v in (msg.get_all(h) or [])]
        rcpts = [a for _n, a in email.utils.getaddresses(values) if a]
    else:
        rcpts = [r for r in recipients if r]
    # keep order, drop duplicates
    seen: set[str] = set()
    unique = []
    for r in rcpts:
        key = r.lower()
        if key not in seen:
            seen.add(key)
            unique.append(r)
    if not unique:
        raise TransportError(False, "message has no recipients (To/Cc/Bcc empty)")
    return envelope_from or "", unique


def _flatten(msg: EmailMessage, utf8: bool) -> bytes:
    """Serialise with CRLF line ends, without Bcc headers (as smtplib.send_message does)."""
    policy = msg.policy if isinstance(msg.policy, email.policy.EmailPolicy) else email.policy.SMTP
    policy = policy.clone(linesep="\r\n", utf8=utf8)
    if "Bcc" in msg or "Resent-Bcc" in msg:
        msg = copy.copy(msg)  # __delitem__ rebinds the header list: the original is untouched
        del msg["Bcc"]
        del msg["Resent-Bcc"]
    buf = BytesIO()
    BytesGenerator(buf, mangle_from_=False, policy=policy).flatten(msg, linesep="\r\n")
    return buf.getvalue()


def _is_temporary_code(code: int) -> bool:
    return 400 <= code < 500 or code < 200  # <200: garbage reply, treat as transient


def _reply_text(resp: bytes | str) -> str:
    if isinstance(resp, bytes):
        resp = resp.decode("utf-8", "replace")
    return " ".join(resp.split())


class Transport(Protocol):
    """What a dispatch job needs from any transport."""

    def send(self, msg: EmailMessage) -> str: ...

    def send_raw(self, data: bytes, *, envelope_from: str, recipients: Iterable[str],
                 before_data: BeforeData | None = None) -> str: ...

    def open(self) -> None: ...

    def close(self) -> None: ...


_DOT_LINE = re.compile(rb"(?m)^\.")  # RFC 5321 4.5.2 dot-stuffing: a leading "." doubled


class _BeforeData(Exception):
    """Internal: the connection broke before any message data was sent."""


# --------------------------------------------------------------------------- SMTP


class SmtpTransport:
    """Send :class:`EmailMessage` objects over one persistent SMTP connection.

    ``with SmtpTransport(settings) as t: t.send(msg)`` - the connection is opened lazily on
    the first send (or eagerly with :meth:`open`) and closed on exit.  Not thread-safe: use one
    transport per thread.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        self._sent_on_conn = 0
        #: recipients refused on the last send while others accepted: {address: (code, text)}
        self.last_refused: dict[str, tuple[int, str]] = {}

    # -- context manager / lifecycle
    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def _where(self) -> str:
        s = self.settings
        return f"SMTP server {s.host}:{s.port} ({s.security})"

    def open(self) -> None:
        """Connect, negotiate TLS and log in now (no-op when already connected)."""
        if self._conn is None:
            self._conn = self._connect()
            self._sent_on_conn = 0

    def close(self) -> None:
        """Say QUIT and close the socket; never raises."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.sock is not None:
                conn.sock.settimeout(min(self.settings.timeout, 5.0))
            conn.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            conn.close()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = self._where()
        context = s.ssl_context
        if context is None and s.security != "none":
            context = ssl.create_default_context()
        conn: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                conn = smtplib.SMTP_SSL(
                    s.host,
                    s.port,
                    local_hostname=s.local_hostname,
                    timeout=s.timeout,
                    context=context,
                )
            else:
                conn = smtplib.SMTP(
                    s.host, s.port, local_hostname=s.local_hostname, timeout=s.timeout
                )
            conn.ehlo_or_helo_if_needed()
            if s.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise TransportError(
                        False,
                        f"{where} does not offer STARTTLS, but security='starttls' is "
                        "configured; refusing to send (and log in) without encryption",
                    )
                code, resp = conn.starttls(context=context)
                if code != 220:
                    raise TransportError(
                        _is_temporary_code(code),
                        f"{where} refused STARTTLS: {code} {_reply_text(resp)}",
                        smtp_code=code,
                    )
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password or "")
            return conn
        except TransportError:
            if conn is not None:
                conn.close()
            raise
        except smtplib.SMTPAuthenticationError as e:
            conn.close()  # type: ignore[union-attr]
            raise TransportError(
                _is_temporary_code(e.smtp_code),
                f"{where} refused login for user {s.username!r}: "
                f"{e.smtp_code} {_reply_text(e.smtp_error)}",
                smtp_code=e.smtp_code,
            ) from e
        except smtplib.SMTPNotSupportedError as e:
            if conn is not None:
                conn.close()
            raise TransportError(False, f"{where}: {e}") from e
        except smtplib.SMTPResponseException as e:
            if conn is not None:
                conn.close()
            raise TransportError(
                _is_temporary_code(e.smtp_code),
                f"{where} refused the connection: {e.smtp_code} {_reply_text(e.smtp_error)}",
                smtp_code=e.smtp_code,
            ) from e
        except ssl.SSLCertVerificationError as e:
            if conn is not None:
                conn.close()
            raise TransportError(
                False, f"{where}: TLS certificate not accepted: {e.verify_message or e}"
            ) from e
        except (smtplib.SMTPException, OSError) as e:
            # refused, unreachable, DNS, timeouts, TLS handshake failures, disconnects
            if conn is not None:
                conn.close()
            raise TransportError(True, f"cannot connect to {where}: {_describe(e)}") from e

    # -- sending
    def send(
        self,
        msg: EmailMessage,
        *,
        envelope_from: str | None = None,
        recipients: Iterable[str] | None = None,
    ) -> str:
        """Send one message; return its Message-ID (one is added when missing).

        Envelope sender defaults to Sender/From, recipients to To+Cc+Bcc (Bcc is not
        transmitted).  Raises :class:`TransportError` when no recipient accepted the message.
        When some recipients accepted and others were refused, the message counts as sent:
        the refused ones are in :attr:`last_refused` and logged.
        """
        msgid = ensure_message_id(msg)
        env_from, rcpts = _envelope(msg, envelope_from, recipients)
        international = not all(a.isascii() for a in [env_from, *rcpts])
        self._deliver(env_from, rcpts, _flatten(msg, utf8=international), international, msgid)
        return msgid

    def send_raw(self, data: bytes, *, envelope_from: str, recipients: Iterable[str],
                 before_data: BeforeData | None = None) -> str:
        """Send an already serialised message (e.g. bytes stored in an outbox row) as is;
        return its Message-ID header ("" when it has none).  Same errors as :meth:`send`.

        ``before_data`` runs once, after the server accepted sender and recipients and right
        before DATA: everything that fails before it is a definite non-delivery; returning
        False aborts with :class:`SendAborted` (the transaction is reset, nothing sent)."""
        rcpts = [r for r in recipients if r]
        if not rcpts:
            raise TransportError(False, "message has no recipients")
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
        msgid = str(headers.get("Message-ID", "")).strip()
        international = not all(a.isascii() for a in [envelope_from, *rcpts])
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self._deliver(envelope_from, rcpts, data, international, msgid, before_data)
        return msgid

    def _deliver(
        self, env_from: str, rcpts: list[str], data: bytes, international: bool, msgid: str,
        before_data: BeforeData | None = None,
    ) -> None:
        self.last_refused = {}
        limit = self.settings.max_messages_per_connection
        if self._conn is not None and limit and self._sent_on_conn >= limit:
            self.close()
        reused = self._conn is not None
        for attempt in (1, 2):
            self.open()
            assert self._conn is not None
            try:
                self.last_refused = self._transaction(
                    self._conn, env_from, rcpts, data, international, before_data
                )
            except _BeforeData as e:
                self._drop()
                if reused and attempt == 1:
                    # the server closed an idle connection: reconnect once and retry; safe
                    # because no message data went out
                    log.info("SMTP connection lost (%s); reconnecting", e)
                    continue
                raise TransportError(
                    True, f"connection to {self._where()} lost: {e}"
                ) from e.__cause__
            self._sent_on_conn += 1
            if self.last_refused:
                log.warning(
                    "message %s: some recipients refused by %s: %s",
                    msgid,
                    self._where(),
                    self.last_refused,
                )
            return
        raise AssertionError("unreachable")  # pragma: no cover

    def _transaction(
        self,
        conn: smtplib.SMTP,
        env_from: str,
        rcpts: list[str],
        data: bytes,
        international: bool,
        before_data: BeforeData | None = None,
    ) -> dict[str, tuple[int, str]]:
        where = self._where()
        if international and not conn.has_extn("smtputf8"):
            raise TransportError(
                False, f"{where} does not support SMTPUTF8, needed for non-ASCII addresses"
            )
        mail_opts: list[str] = []
        if international:
            mail_opts.append("SMTPUTF8")
        if (international or not data.isascii()) and conn.has_extn("8bitmime"):
            mail_opts.append("BODY=8BITMIME")
        if conn.has_extn("size"):
            mail_opts.append(f"SIZE={len(data)}")

        try:
            code, resp = conn.mail(env_from, mail_opts)
            if code == 421:
                raise smtplib.SMTPServerDisconnected(f"421 {_reply_text(resp)}")
            if code != 250:
                self._rset(conn)
                raise TransportError(
                    _is_temporary_code(code),
                    f"{where} refused sender {env_from!r}: {code} {_reply_text(resp)}",
                    smtp_code=code,
                )
            refused: dict[str, tuple[int, str]] = {}
            for r in rcpts:
                code, resp = conn.rcpt(r)
                if code == 421:
                    raise smtplib.SMTPServerDisconnected(f"421 {_reply_text(resp)}")
                if code not in (250, 251):
                    refused[r] = (code, _reply_text(resp))
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            raise _BeforeData(_describe(e)) from e
        if len(refused) == len(rcpts):
            self._rset(conn)
            temporary = any(_is_temporary_code(c) for c, _t in refused.values())
            detail = "; ".join(f"{r}: {c} {t}" for r, (c, t) in refused.items())
            first_code = next(iter(refused.values()))[0]
            raise TransportError(
                temporary, f"{where} refused all recipients: {detail}", smtp_code=first_code
            )
        if before_data is not None:
            try:
                go_ahead = before_data()
            except BaseException:
                self._rset(conn)  # leave the connection usable for the next message
                raise
            if not go_ahead:
                self._rset(conn)
                raise SendAborted()
        # DATA in two steps (what smtplib.SMTP.data does), so that a connection lost before
        # the server said 354 is known to be a non-delivery, and only a loss after the
        # message went out is "delivery unknown"
        try:
            code, resp = conn.docmd("data")
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            self._drop()
            raise TransportError(
                True, f"connection to {where} lost before the message was sent: {_describe(e)}"
            ) from e
        if code != 354:
            raise self._refusal(conn, code, f"{where} refused DATA: {code} {_reply_text(resp)}")
        payload = _DOT_LINE.sub(b"..", data)
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        try:
            conn.send(payload + b".\r\n")
            code, resp = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            self._drop()
            raise TransportError(
                True,
                f"connection to {where} lost while sending the message; it may or may "
                f"not have been delivered: {_describe(e)}",
                delivery_unknown=True,
            ) from e
        if code != 250:
            raise self._refusal(conn, code,
                                f"{where} rejected the message: {code} {_reply_text(resp)}")
        return refused

    def _refusal(self, conn: smtplib.SMTP, code: int, text: str) -> TransportError:
        """A definite refusal (nothing delivered): 421 closes the connection, else RSET."""
        if code == 421:
            self._drop()
        else:
            self._rset(conn)
        return TransportError(_is_temporary_code(code), text, smtp_code=code)

    def _rset(self, conn: smtplib.SMTP) -> None:
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


def _describe(e: BaseException) -> str:
    known = describe_network_error(e)
    if known is not None:
        return known
    return str(e) or type(e).__name__


# --------------------------------------------------------------------------- folder


@dataclass(frozen=True)
class StoredMail:
    """One message in a :class:`FolderTransport` outbox folder (for a dev mailbox page)."""

    name: str
    message_id: str
    subject: str
    from_: str
    to: str
    date: str
    size: int
    stored_at: datetime


_SAFE = re.compile(r"[^A-Za-z0-9._@+-]+")
_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*\.eml$")


class FolderTransport:
    """The embedded default: every message becomes ``<timestamp>-<msgid>.eml`` in a folder.

    Files appear atomically (written to a temporary file in the same folder, fsynced, then
    renamed with ``os.replace``), so a reader never sees half a message.  Names sort by
    time of sending.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> FolderTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        pass

    def send(self, msg: EmailMessage) -> str:
        msgid = ensure_message_id(msg)
        _envelope(msg, None, None)  # same "no recipients" check as SMTP
        self._store(_flatten(msg, utf8=True), msgid)
        return msgid

    def send_raw(self, data: bytes, *, envelope_from: str, recipients: Iterable[str],
                 before_data: BeforeData | None = None) -> str:
        """Store already serialised bytes (see :meth:`SmtpTransport.send_raw`)."""
        if not [r for r in recipients if r]:
            raise TransportError(False, "message has no recipients")
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
        msgid = str(headers.get("Message-ID", "")).strip()
        if before_data is not None and not before_data():
            raise SendAborted()
        self._store(data, msgid)
        return msgid

    def _store(self, data: bytes, msgid: str) -> None:
        data = data.replace(b"\r\n", b"\n")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        safe_id = re.sub(r"\.{2,}", ".", _SAFE.sub("_", msgid.strip("<> ")))
        safe_id = safe_id.strip("._")[:120] or "message"
        name = f"{stamp}-{safe_id}.eml"
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=self.path)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            target = self.path / name
            n = 1
            while target.exists():  # same id re-sent within one microsecond
                target = self.path / f"{stamp}-{safe_id}-{n}.eml"
                n += 1
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def names(self) -> list[str]:
        """File names of stored messages, newest first (temporary files excluded)."""
        if not self.path.is_dir():
            return []
        return sorted(
            (p.name for p in self.path.iterdir() if _NAME_OK.match(p.name) and p.is_file()),
            reverse=True,
        )

    def list(self, limit: int | None = 100, offset: int = 0) -> list[StoredMail]:
        """Summaries of stored messages, newest first, at most ``limit`` (None: all) after the
        first ``offset``."""
        names = self.names()[max(offset, 0):]
        if limit is not None:
            names = names[: max(limit, 0)]
        out = []
        parser = email.parser.BytesHeaderParser(policy=email.policy.default)
        for name in names:
            p = self.path / name
            try:
                st = p.stat()
                with p.open("rb") as fh:
                    hdrs = parser.parse(fh)
            except FileNotFoundError:  # deleted meanwhile
                continue
            out.append(
                StoredMail(
                    name=name,
                    message_id=str(hdrs.get("Message-ID", "")),
                    subject=str(hdrs.get("Subject", "")),
                    from_=str(hdrs.get("From", "")),
                    to=str(hdrs.get("To", "")),
                    date=str(hdrs.get("Date", "")),
                    size=st.st_size,
                    stored_at=datetime.fromtimestamp(st.st_mtime, UTC),
                )
            )
        return out

    def read_bytes(self, name: str) -> bytes:
        """Raw bytes of one stored message.  ``name`` must be a name from :meth:`list`;
        anything else (paths, ``..``) raises ``ValueError``."""
        if not _NAME_OK.match(name) or name != os.path.basename(name):
            raise ValueError(f"not a stored message name: {name!r}")
        return (self.path / name).read_bytes()

    def read(self, name: str) -> EmailMessage:
        """One stored message, parsed."""
        msg = email.message_from_bytes(self.read_bytes(name), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


__all__ = [
    "BeforeData",
    "FolderTransport",
    "SendAborted",
    "SmtpSettings",
    "SmtpTransport",
    "StoredMail",
    "Transport",
    "TransportError",
    "ensure_message_id",
    "restamp_date",
]
