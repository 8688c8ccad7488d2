"""Mail tests run against real loopback servers (aiosmtpd, a private dovecot); the fixtures come
from tests/servers/fixtures.py through the root conftest's pytest_plugins."""
