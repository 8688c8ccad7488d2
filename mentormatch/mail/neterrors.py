"""Network failures worded for an operator, shared by the SMTP sender and the IMAP reader."""

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
