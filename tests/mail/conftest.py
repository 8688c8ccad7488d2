"""Mail tests run against real loopback servers (aiosmtpd, a private dovecot)."""

import sys
from pathlib import Path

# `tests.servers` and `mentormatch` are imported from the repository root; make that work
# under plain `pytest` too (no-op when the root is already on sys.path, e.g. with
# `pythonpath = ["."]` in the pytest settings or `python -m pytest`).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.servers.fixtures import (  # noqa: E402, F401  (fixtures)
    imap_account,
    imap_server,
    smtp_server,
    smtp_server_factory,
    smtp_settings,
)
