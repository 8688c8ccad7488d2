"""pytest fixtures for the real loopback mail servers.

``smtp_server``   function scope: a started :class:`SmtpTestServer` (fresh, empty), stopped after.
``smtp_server_factory`` function scope: ``make(**kwargs) -> SmtpTestServer`` (started; e.g.
                  ``store=False``, ``reject_recipients=[...]``, aiosmtpd ``tls_context=...``,
                  ``authenticator=...``); all stopped after the test.
``smtp_settings`` function scope: ``SmtpSettings`` pointing at ``smtp_server`` (security 'none').
``imap_server``   session scope: a started :class:`DovecotServer` with ``host``, ``port``,
                  ``user``, ``password`` (a default account) and ``deliver(user, raw)``.
``imap_account``  function scope: a fresh account (empty INBOX) on ``imap_server``.

A missing dovecot binary FAILS the test (never skips): CI must
``apt-get install -y dovecot-imapd``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mentormatch.mail.transport import SmtpSettings

from .imap import DovecotMissing, DovecotServer, ImapAccount
from .smtp import SmtpTestServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    server = SmtpTestServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server_factory() -> Iterator[Callable[..., SmtpTestServer]]:
    servers: list[SmtpTestServer] = []

    def make(**kwargs: Any) -> SmtpTestServer:
        server = SmtpTestServer(**kwargs)
        servers.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def smtp_settings(smtp_server: SmtpTestServer) -> SmtpSettings:
    return SmtpSettings(
        host=smtp_server.host,
        port=smtp_server.port,
        security="none",
        timeout=5.0,
        local_hostname="mentormatch.test",
    )


@pytest.fixture(scope="session")
def imap_server() -> Iterator[DovecotServer]:
    server = DovecotServer()
    try:
        server.start()
    except DovecotMissing as e:
        pytest.fail(f"IMAP tests need a real dovecot: {e}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_account(imap_server: DovecotServer) -> ImapAccount:
    return imap_server.add_user("organizer")
