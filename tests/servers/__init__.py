"""Real servers for tests, on loopback: aiosmtpd (SMTP) and a private dovecot (IMAP).

Fixtures live in :mod:`tests.servers.fixtures`; import them into a conftest::

    from tests.servers.fixtures import imap_account, imap_server, smtp_server  # noqa: F401

or list ``"tests.servers.fixtures"`` in the root conftest's ``pytest_plugins``.
"""
