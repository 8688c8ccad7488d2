"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, in a background thread.

    server = SmtpTestServer()          # picks a free loopback port
    server.start()
    ... send to server.host, server.port ...
    server.wait_for(3)                  # bounded wait for three messages
    server.messages[0].message["Subject"]
    server.stop(); server.start()       # down, then up again on the same port
    server.stop()

Failure modes for tests: ``fail_next(n)`` answers the next ``n`` DATA commands with
``451 4.3.0`` (temporary), ``reject_recipients`` answers RCPT for those addresses with
``550 5.1.1`` (permanent), ``drop_after_data(n)`` stores the next ``n`` messages and then
drops the connection before the client hears the reply (delivery unknown to the client).
``store=False`` only counts messages (benchmarks). ``delay`` makes the server slow: after the
message data arrived it waits that many seconds before answering (``wait_in_data(n)`` waits
until the n-th message reached that point - the moment to kill a client mid-DATA).
``message_ids()`` lists the Message-ID of every stored message, duplicates included.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

LOOPBACK = "127.0.0.1"
_DROP = "drop"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on ``host`` that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes  # raw bytes after the DATA command (CRLF line ends)
    mail_options: tuple[str, ...]
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def message(self) -> EmailMessage:
        msg = BytesParser(policy=email.policy.default).parsebytes(self.data)
        assert isinstance(msg, EmailMessage)
        return msg


class _Handler:
    def __init__(self, server: SmtpTestServer) -> None:
        self.server = server

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.lower() in self.server.reject_recipients:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        delay = self.server._begin_data()
        if delay:
            await asyncio.sleep(delay)
        reply = self.server._accept(envelope)
        if reply == _DROP:
            # accepted, but the connection dies before the client hears "250"
            assert server.transport is not None
            server.transport.abort()
            return "250 OK"
        return reply


class SmtpTestServer:
    """aiosmtpd receiving server on loopback.  Thread-safe message list; restartable."""

    def __init__(
        self,
        host: str = LOOPBACK,
        port: int | None = None,
        *,
        store: bool = True,
        reject_recipients: Iterable[str] = (),
        delay: float = 0.0,
        **smtp_kwargs: Any,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.store = store
        self.reject_recipients = {r.lower() for r in reject_recipients}
        self.smtp_kwargs = smtp_kwargs  # e.g. tls_context=..., authenticator=...
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._messages: list[ReceivedMessage] = []
        self._count = 0
        self._fail_next = 0
        self._failed = 0
        self._drop_next = 0
        self._in_data = 0
        self.delay = delay
        self._controller: Controller | None = None

    # -- lifecycle
    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self, timeout: float = 10.0) -> SmtpTestServer:
        """Start listening (again, on the same port).  Retries briefly if the port is
        still held by a previous run."""
        if self._controller is not None:
            return self
        deadline = time.monotonic() + timeout
        while True:
            controller = Controller(
                _Handler(self),
                hostname=self.host,
                port=self.port,
                ready_timeout=max(1.0, min(5.0, timeout)),
                decode_data=False,
                enable_SMTPUTF8=True,
                **self.smtp_kwargs,
            )
            try:
                controller.start()
            except OSError:  # address in use: a socket of the previous run lingers
                _close_loop(controller)
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
                continue
            self._controller = controller
            return self

    def stop(self) -> None:
        """Stop listening and drop open client connections (idempotent)."""
        controller, self._controller = self._controller, None
        if controller is None:
            return
        # close client connections first, inside the loop, so no transport leaks
        loop = controller.loop

        async def _shutdown() -> None:
            if controller.server is not None:
                controller.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(_shutdown(), loop)
            with contextlib.suppress(Exception):
                fut.result(timeout=5.0)
        controller.stop(no_assert=True)

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour knobs
    def fail_next(self, n: int) -> None:
        """Answer the next ``n`` DATA commands with 451 (temporary failure)."""
        with self._lock:
            self._fail_next = n

    def drop_after_data(self, n: int = 1) -> None:
        """For the next ``n`` messages: store them, then drop the connection before replying
        (the client cannot know whether the message was delivered)."""
        with self._lock:
            self._drop_next = n

    def reject(self, *addresses: str) -> None:
        """Answer RCPT TO for these addresses with 550 (permanent failure)."""
        self.reject_recipients.update(a.lower() for a in addresses)

    # -- results
    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._lock:
            return list(self._messages)

    @property
    def count(self) -> int:
        """Messages accepted so far (also counted when ``store=False``)."""
        with self._lock:
            return self._count

    @property
    def failed(self) -> int:
        """DATA commands answered with 451 so far."""
        with self._lock:
            return self._failed

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._count = 0
            self._failed = 0

    def wait_for(self, n: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Wait (bounded) until at least ``n`` messages arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._count < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {n} message(s) at {self.host}:{self.port}, "
                        f"got {self._count} within {timeout}s"
                    )
                self._cond.wait(left)
            return list(self._messages)

    def _begin_data(self) -> float:
        with self._cond:
            self._in_data += 1
            self._cond.notify_all()
            return self.delay

    def wait_in_data(self, n: int, timeout: float = 10.0) -> None:
        """Wait (bounded) until the n-th message's data arrived (it may still be waiting for
        its reply when the server is slow)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._in_data < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"only {self._in_data} DATA phase(s) within {timeout}s")
                self._cond.wait(left)

    def message_ids(self) -> list[str]:
        """Message-IDs of the stored messages in arrival order (duplicates kept)."""
        out = []
        parser = BytesParser(policy=email.policy.default)
        for m in self.messages:
            out.append(str(parser.parsebytes(m.data, headersonly=True)["Message-ID"]))
        return out

    def _accept(self, envelope: Envelope) -> str:
        with self._cond:
            if self._fail_next > 0:
                self._fail_next -= 1
                self._failed += 1
                return "451 4.3.0 Temporary failure, try again later"
            self._count += 1
            if self.store:
                content = envelope.original_content or envelope.content or b""
                if isinstance(content, str):
                    content = content.encode("utf-8", "surrogateescape")
                self._messages.append(
                    ReceivedMessage(
                        mail_from=envelope.mail_from or "",
                        rcpt_tos=tuple(envelope.rcpt_tos),
                        data=bytes(content),
                        mail_options=tuple(envelope.mail_options),
                    )
                )
            self._cond.notify_all()
            if self._drop_next > 0:
                self._drop_next -= 1
                return _DROP
        return "250 OK"


def _close_loop(controller: Controller) -> None:
    with contextlib.suppress(Exception):
        if not controller.loop.is_closed():
            controller.loop.close()
