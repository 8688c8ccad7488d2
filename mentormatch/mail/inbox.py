"""Incoming mail: read the organizer mailbox over IMAP.

Pure transport: no database, no Flask.  The inbox job keeps its own cursor (UIDVALIDITY + the
last UID it handled, stored in the database) and calls :meth:`ImapInbox.fetch_after`: what
happened to a message is decided by that cursor, never by the \\Seen flag, so a coordinator
who reads the organizer mailbox in a mail client changes nothing.  Fetching uses
``BODY.PEEK[]`` (flags untouched).  With ``processed_folder`` set, handled mail is moved
there (:meth:`ImapInbox.move_processed`).

:meth:`fetch_unseen` / :meth:`mark_processed` (\\Seen based) remain for simple consumers.
All commands use UIDs (stable across sessions while the folder's UIDVALIDITY is unchanged).
"""

from __future__ import annotations

import contextlib
import email.policy
import imaplib
import logging
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Literal

from .neterrors import check_server, describe_network_error

log = logging.getLogger(__name__)

ImapSecurity = Literal["none", "ssl", "starttls"]
MAX_BATCH = 500


class InboxError(Exception):
    """Reading the mailbox failed.  ``temporary``: retrying later may help."""

    def __init__(self, temporary: bool, message: str) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.message = message


class ImapAuthError(InboxError):
    """The server refused the login (wrong user name or password)."""

    def __init__(self, message: str) -> None:
        super().__init__(False, message)


@dataclass(frozen=True)
class ImapSettings:
    host: str = "localhost"
    port: int = 993
    security: ImapSecurity = "ssl"
    username: str = ""
    password: str = field(default="", repr=False)
    folder: str = "INBOX"
    #: move processed mail here (created when missing); None: only flag it \\Seen
    processed_folder: str | None = None
    timeout: float = 30.0
    #: TLS context for 'ssl'/'starttls'; None means ssl.create_default_context()
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_server("IMAP", self.security, self.host, self.port)
        if not self.username:
            raise ValueError("IMAP username must not be empty")
        if not self.folder:
            raise ValueError("IMAP folder must not be empty")
        if self.processed_folder is not None and self.processed_folder == self.folder:
            raise ValueError("IMAP processed_folder must differ from folder")
        if self.timeout <= 0:
            raise ValueError("IMAP timeout must be positive")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], **overrides: Any) -> ImapSettings:
        """Build from a config mapping; unknown keys are an error; ``overrides`` win."""
        merged = {**data, **overrides}
        unknown = sorted(set(merged) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown IMAP setting(s): {', '.join(unknown)}")
        return cls(**merged)


@dataclass(frozen=True)
class InboundMail:
    uid: int
    raw_bytes: bytes
    #: UIDVALIDITY of the folder the uid belongs to
    uidvalidity: int = 0

    def message(self) -> EmailMessage:
        msg = BytesParser(policy=email.policy.default).parsebytes(self.raw_bytes)
        assert isinstance(msg, EmailMessage)
        return msg


_UID_RE = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_UIDVALIDITY_RE = re.compile(rb"UIDVALIDITY (\d+)", re.IGNORECASE)


def _text(data: object) -> str:
    if isinstance(data, list | tuple):
        return " ".join(_text(d) for d in data if d is not None)
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(data)


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapInbox:
    """One IMAP connection to one folder.  Opened lazily, reconnects once on a dropped
    connection; use as a context manager or call :meth:`close`.  Not thread-safe."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._conn: imaplib.IMAP4 | None = None
        self.uidvalidity: int | None = None
        self._processed_ready = False

    def __enter__(self) -> ImapInbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _where(self) -> str:
        s = self.settings
        return f"IMAP server {s.host}:{s.port} ({s.security})"

    @property
    def connected(self) -> bool:
        return self._conn is not None

    # -- connection
    def open(self) -> None:
        if self._conn is not None:
            return
        s = self.settings
        where = self._where()
        context = s.ssl_context
        if context is None and s.security != "none":
            context = ssl.create_default_context()
        conn: imaplib.IMAP4 | None = None
        try:
            if s.security == "ssl":
                conn = imaplib.IMAP4_SSL(s.host, s.port, ssl_context=context, timeout=s.timeout)
            else:
                conn = imaplib.IMAP4(s.host, s.port, timeout=s.timeout)
            if s.security == "starttls":
                if "STARTTLS" not in conn.capabilities:
                    raise InboxError(
                        False,
                        f"{where} does not offer STARTTLS, but security='starttls' is "
                        "configured; refusing to log in without encryption",
                    )
                conn.starttls(ssl_context=context)
            try:
                conn.login(s.username, s.password)
            except imaplib.IMAP4.error as e:
                raise ImapAuthError(
                    f"{where} refused login for user {s.username!r}: {_text(e.args)} "
                    "(check the IMAP user name and password)"
                ) from e
            typ, data = conn.select(_quote(s.folder))
            if typ != "OK":
                raise InboxError(False, f"{where}: cannot open folder {s.folder!r}: {_text(data)}")
            self.uidvalidity = self._read_uidvalidity(conn)
            self._conn = conn
            self._processed_ready = False
        except InboxError:
            if conn is not None:
                _shutdown(conn)
            raise
        except ssl.SSLCertVerificationError as e:
            if conn is not None:
                _shutdown(conn)
            raise InboxError(
                False, f"{where}: TLS certificate not accepted: {e.verify_message or e}"
            ) from e
        except (imaplib.IMAP4.error, OSError) as e:
            if conn is not None:
                _shutdown(conn)
            raise InboxError(True, f"cannot connect to {where}: {_describe(e)}") from e

    def _read_uidvalidity(self, conn: imaplib.IMAP4) -> int:
        _typ, data = conn.response("UIDVALIDITY")
        for item in data or ():
            if item:
                with contextlib.suppress(ValueError):
                    return int(item)
        typ, data = conn.status(_quote(self.settings.folder), "(UIDVALIDITY)")
        m = _UIDVALIDITY_RE.search(data[0] or b"") if typ == "OK" else None
        return int(m.group(1)) if m else 0

    def close(self) -> None:
        """Log out and close the socket; never raises."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.sock is not None:
                conn.sock.settimeout(min(self.settings.timeout, 5.0))
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.close()  # CLOSE the folder (expunges \\Deleted from our moves)
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            _shutdown(conn)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _shutdown(conn)

    def _run(self, what: str, fn: Any) -> Any:
        """Run ``fn(conn)``; on a dropped connection reconnect once and retry (all callers
        are idempotent)."""
        for attempt in (1, 2):
            reused = self._conn is not None
            self.open()
            assert self._conn is not None
            try:
                return fn(self._conn)
            except (imaplib.IMAP4.abort, OSError) as e:
                self._drop()
                if reused and attempt == 1:
                    log.info("IMAP connection lost during %s (%s); reconnecting", what, e)
                    continue
                raise InboxError(
                    True, f"connection to {self._where()} lost during {what}: {_describe(e)}"
                ) from e
            except imaplib.IMAP4.error as e:
                raise InboxError(False, f"{self._where()}: {what} failed: {_text(e.args)}") from e
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reading
    @property
    def cursor_name(self) -> str:
        """A stable name of this mailbox folder, for the consumer's cursor."""
        s = self.settings
        return f"{s.username}@{s.host}:{s.port}/{s.folder}"

    def current_uidvalidity(self) -> int:
        """UIDVALIDITY of the folder (opens the connection)."""
        self._run("SELECT", lambda conn: None)
        return int(self.uidvalidity or 0)

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above ``last_uid`` in the folder, ascending, whatever their flags."""

        def search(conn: imaplib.IMAP4) -> list[int]:
            typ, data = conn.uid("SEARCH", f"UID {int(last_uid) + 1}:*")
            if typ != "OK":
                raise imaplib.IMAP4.error(f"UID SEARCH: {_text(data)}")
            found = (int(x) for x in b" ".join(d or b"" for d in data).split())
            # "n:*" also matches the highest UID when it is below n: filter
            return sorted(u for u in found if u > last_uid)

        return self._run("UID SEARCH", search)

    def fetch_after(self, last_uid: int, limit: int = 50) -> list[InboundMail]:
        """Up to ``limit`` messages with a UID above ``last_uid`` (oldest first), flags
        untouched."""
        if not 1 <= limit <= MAX_BATCH:
            raise ValueError(f"limit must be 1-{MAX_BATCH}, not {limit}")
        return self._fetch(self.uids_after(last_uid)[:limit])

    def unseen_uids(self) -> list[int]:
        """UIDs of unseen messages in the folder, ascending."""

        def search(conn: imaplib.IMAP4) -> list[int]:
            typ, data = conn.uid("SEARCH", "UNSEEN")
            if typ != "OK":
                raise imaplib.IMAP4.error(f"UID SEARCH UNSEEN: {_text(data)}")
            return sorted(int(x) for x in b" ".join(d or b"" for d in data).split())

        return self._run("UID SEARCH", search)

    def fetch_unseen(self, limit: int = 50) -> list[InboundMail]:
        """Up to ``limit`` unseen messages (oldest UID first), without marking them seen."""
        if not 1 <= limit <= MAX_BATCH:
            raise ValueError(f"limit must be 1-{MAX_BATCH}, not {limit}")
        return self._fetch(self.unseen_uids()[:limit])

    def _fetch(self, uids: list[int]) -> list[InboundMail]:
        if not uids:
            return []
        uid_set = ",".join(str(u) for u in uids)

        def fetch(conn: imaplib.IMAP4) -> list[InboundMail]:
            typ, data = conn.uid("FETCH", uid_set, "(UID BODY.PEEK[])")
            if typ != "OK":
                raise imaplib.IMAP4.error(f"UID FETCH: {_text(data)}")
            return self._parse_fetch(data or [])

        found = {m.uid: m for m in self._run("UID FETCH", fetch)}
        # keep SEARCH order; a message expunged meanwhile is simply missing
        return [found[u] for u in uids if u in found]

    def _parse_fetch(self, data: list[Any]) -> list[InboundMail]:
        out = []
        validity = self.uidvalidity or 0
        for i, item in enumerate(data):
            if not isinstance(item, tuple) or len(item) < 2:
                continue
            head, body = item[0], item[1]
            if b"BODY[" not in head.upper():
                continue
            m = _UID_RE.search(head)
            if m is None and i + 1 < len(data) and isinstance(data[i + 1], bytes):
                m = _UID_RE.search(data[i + 1])  # UID after the literal
            if m is None:
                log.warning("IMAP FETCH response without UID ignored: %r", head[:100])
                continue
            out.append(
                InboundMail(uid=int(m.group(1)), raw_bytes=bytes(body), uidvalidity=validity)
            )
        return out

    # -- marking
    def mark_processed(self, uid: int | InboundMail) -> None:
        """Flag the message \\Seen; with ``processed_folder`` also move it there (MOVE when the
        server has it, else COPY + \\Deleted + UID EXPUNGE).  Idempotent for the flag."""
        if isinstance(uid, InboundMail):
            if self.uidvalidity is not None and uid.uidvalidity not in (0, self.uidvalidity):
                raise InboxError(
                    False,
                    f"UIDVALIDITY of {self.settings.folder!r} changed "
                    f"({uid.uidvalidity} -> {self.uidvalidity}); fetch again",
                )
            uid = uid.uid
        uid_s = str(int(uid))
        target = self.settings.processed_folder

        def mark(conn: imaplib.IMAP4) -> None:
            typ, data = conn.uid("STORE", uid_s, "+FLAGS.SILENT", r"(\Seen)")
            if typ != "OK":
                raise imaplib.IMAP4.error(f"UID STORE {uid_s}: {_text(data)}")
            if target is not None:
                self._move(conn, uid_s, target)

        self._run("mark processed", mark)

    def _move(self, conn: imaplib.IMAP4, uid_s: str, target: str) -> None:
        """MOVE when the server has it, else COPY + \\Deleted (+ UID EXPUNGE with UIDPLUS;
        without it the message is expunged by CLOSE in close())."""
        self._ensure_processed_folder(conn)
        if "MOVE" in conn.capabilities:
            typ, data = conn.uid("MOVE", uid_s, _quote(target))
            if typ != "OK":
                raise imaplib.IMAP4.error(f"UID MOVE {uid_s}: {_text(data)}")
            return
        typ, data = conn.uid("COPY", uid_s, _quote(target))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"UID COPY {uid_s}: {_text(data)}")
        conn.uid("STORE", uid_s, "+FLAGS.SILENT", r"(\Deleted)")
        if "UIDPLUS" in conn.capabilities:
            conn.uid("EXPUNGE", uid_s)

    def move_processed(self, mail: InboundMail) -> bool:
        """Move a handled message to ``processed_folder`` (flags untouched). False when no
        folder is configured.  MOVE when the server has it, else COPY + \\Deleted +
        UID EXPUNGE."""
        target = self.settings.processed_folder
        if target is None:
            return False
        if self.uidvalidity is not None and mail.uidvalidity not in (0, self.uidvalidity):
            raise InboxError(False, f"UIDVALIDITY of {self.settings.folder!r} changed")
        uid_s = str(int(mail.uid))

        self._run("move processed", lambda conn: self._move(conn, uid_s, target))
        return True

    def _ensure_processed_folder(self, conn: imaplib.IMAP4) -> None:
        if self._processed_ready:
            return
        target = self.settings.processed_folder
        assert target is not None
        typ, data = conn.list('""', _quote(target))
        if typ != "OK" or not any(d for d in data if d):
            typ, data = conn.create(_quote(target))
            answer = [d for d in data if isinstance(d, bytes)]
            if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(answer):
                raise imaplib.IMAP4.error(f"CREATE {target!r}: {_text(data)}")
        self._processed_ready = True


def _shutdown(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown()


def _describe(e: BaseException) -> str:
    known = describe_network_error(e)
    if known is not None:
        return known
    return _text(e.args) if e.args else type(e).__name__


__all__ = [
    "ImapAuthError",
    "ImapInbox",
    "ImapSettings",
    "InboundMail",
    "InboxError",
]
