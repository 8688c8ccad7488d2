"""Network settings checked and failures worded for an operator, shared by the SMTP sender and
the IMAP reader."""

from __future__ import annotations

import socket


def describe_network_error(e: BaseException) -> str | None:
    """The operator's wording of a connect-time failure, or None when it is the protocol's own.

    Both mail links see the same socket errors; the protocol errors differ (IMAP answers carry
    bytes), so each caller words those itself.
    """
    if isinstance(e, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(e, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(e, socket.gaierror):
        return f"host name lookup failed: {e.strerror or e}"
    return None


SECURITY_VALUES = ("none", "ssl", "starttls")


def check_server(protocol: str, security: str, host: str, port: int) -> None:
    """Refuse a mail server setting that cannot work, naming the protocol (SMTP or IMAP)."""
    if security not in SECURITY_VALUES:
        raise ValueError(
            f"{protocol} security must be one of {', '.join(SECURITY_VALUES)}, not {security!r}")
    if not host:
        raise ValueError(f"{protocol} host must not be empty")
    if not 0 < int(port) < 65536:
        raise ValueError(f"{protocol} port must be 1-65535, not {port!r}")
