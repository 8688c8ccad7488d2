"""A real IMAP server for tests: a private dovecot instance on 127.0.0.1.

Runs from a generated config (``dovecot -F -c FILE``) in its own temporary directory with its
own base_dir, log, maildirs and passwd-file; nothing of the system dovecot is used or touched.
Needs the ``dovecot`` binary (Debian: ``apt-get install -y dovecot-imapd``); when it is
missing, :meth:`DovecotServer.start` raises :class:`DovecotMissing` (the fixture turns that
into a test failure, never a skip).

    server = DovecotServer().start()
    account = server.add_user("organizer")      # fresh mailbox, returns ImapAccount
    server.deliver(account.user, raw_bytes)     # IMAP APPEND as that user
    server.stop()                                # SIGTERM via base_dir/master.pid, bounded wait
"""

from __future__ import annotations

import atexit
import contextlib
import imaplib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .smtp import LOOPBACK, free_port

INSTALL_HINT = "install it with: apt-get install -y dovecot-imapd"


class DovecotMissing(RuntimeError):
    pass


class DovecotStartError(RuntimeError):
    pass


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str


def find_dovecot() -> str:
    for candidate in (shutil.which("dovecot"), "/usr/sbin/dovecot"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise DovecotMissing(f"dovecot is not installed (no 'dovecot' binary); {INSTALL_HINT}")


def dovecot_version(binary: str) -> tuple[int, int]:
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=10, check=True
    ).stdout
    m = re.match(r"\s*(\d+)\.(\d+)", out)
    if not m:
        raise DovecotStartError(f"cannot read dovecot version from {out!r}")
    return int(m.group(1)), int(m.group(2))


def _config_23(d: Path, port: int, name: str) -> str:
    return f"""\
# generated for tests: private dovecot 2.3 instance
instance_name = {name}
protocols = imap
listen = {LOOPBACK}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# no anvil auth penalty (growing delays after the wrong-password tests) for loopback
login_trusted_networks = 127.0.0.0/8
auth_failure_delay = 0
mail_location = maildir:{d}/mail/%u
first_valid_uid = 1
last_valid_uid = 0
mail_privileged_group =
default_internal_user = dovecot
default_login_user = dovenull
login_greeting = mentormatch test imap ready
shutdown_clients = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users/%u
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home/%u
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {LOOPBACK}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _config_24(d: Path, port: int, name: str) -> str:
    # dovecot 2.4 renamed most settings (see doc.dovecot.org "Upgrading 2.3 to 2.4")
    return f"""\
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
# generated for tests: private dovecot 2.4 instance
instance_name = {name}
protocols = imap
listen = {LOOPBACK}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
# no anvil auth penalty (growing delays after the wrong-password tests) for loopback
login_trusted_networks = 127.0.0.0/8
mail_driver = maildir
mail_path = {d}/mail/%{{user}}
mail_home = {d}/home/%{{user}}
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
shutdown_clients = yes
passdb passwd-file {{
  passwd_file_path = {d}/users/%{{user}}
}}
userdb static {{
  fields {{
    uid = nobody
    gid = nogroup
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


class DovecotServer:
    """A private dovecot on loopback.  ``add_user`` creates mailboxes while it runs (the
    passwd-file is re-read by dovecot when it changes)."""

    def __init__(self, port: int | None = None, start_timeout: float = 15.0) -> None:
        self.host = LOOPBACK
        self.port = port or free_port()
        self.start_timeout = start_timeout
        self.dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._users: dict[str, str] = {}
        self._lock = threading.Lock()
        #: a default account, created by start() (prefer add_user() per test for isolation)
        self.default_account: ImapAccount | None = None

    # -- paths
    @property
    def config_path(self) -> Path:
        assert self.dir is not None
        return self.dir / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        assert self.dir is not None
        return self.dir / "dovecot.log"

    @property
    def pid_path(self) -> Path:
        assert self.dir is not None
        return self.dir / "run" / "master.pid"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except (OSError, AssertionError):
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- lifecycle
    def start(self) -> DovecotServer:
        if self._proc is not None:
            return self
        binary = find_dovecot()
        major, minor = dovecot_version(binary)
        nobody = pwd.getpwnam("nobody")
        # own directory outside pytest's 0700 tmp tree: dovecot's mail processes run as nobody
        self.dir = Path(tempfile.mkdtemp(prefix="mm-dovecot-"))
        os.chmod(self.dir, 0o755)
        for sub in ("run", "state"):
            (self.dir / sub).mkdir(mode=0o755)
        for sub in ("mail", "home"):
            p = self.dir / sub
            p.mkdir(mode=0o755)
            os.chown(p, nobody.pw_uid, nobody.pw_gid)
        self._write_passwd()
        name = f"mm-test-{self.port}"
        make = _config_24 if (major, minor) >= (2, 4) else _config_23
        self.config_path.write_text(make(self.dir, self.port, name))
        with open(self.dir / "stderr.log", "wb") as err:
            self._proc = subprocess.Popen(
                [binary, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )
        _running.add(self)
        try:
            self._wait_ready()
            if self.default_account is None:
                self.default_account = self.add_user("organizer")
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise DovecotStartError(
                    f"dovecot exited with status {self._proc.returncode} during start-up:\n"
                    f"{self._stderr()}\n{self.log_tail()}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0) as s:
                    s.settimeout(2.0)
                    if s.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise DovecotStartError(
            f"dovecot did not accept IMAP connections on {self.host}:{self.port} within "
            f"{self.start_timeout}s:\n{self._stderr()}\n{self.log_tail()}"
        )

    def _stderr(self) -> str:
        try:
            return (self.dir / "stderr.log").read_text(errors="replace")  # type: ignore[operator]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the master (pid from base_dir/master.pid), wait bounded, then SIGKILL the
        whole process group; remove the directory.  Idempotent."""
        proc, self._proc = self._proc, None
        _running.discard(self)
        if proc is not None:
            pid = proc.pid
            with contextlib.suppress(OSError, ValueError):
                pid = int(self.pid_path.read_text().strip())
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
            # children (imap, auth, log ...) share the master's session/process group
            _wait_group_gone(proc.pid, timeout)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def user(self) -> str:
        assert self.default_account is not None, "server not started"
        return self.default_account.user

    @property
    def password(self) -> str:
        assert self.default_account is not None, "server not started"
        return self.default_account.password

    # -- users and mail
    def _write_passwd(self) -> None:
        """One passwd-file per user (``users/<name>``): dovecot re-reads a changed passwd-file
        at most once a second, but a new file is read on its first lookup."""
        assert self.dir is not None
        users = self.dir / "users"
        users.mkdir(mode=0o755, exist_ok=True)
        for user, password in self._users.items():
            target = users / user
            if target.exists():
                continue
            tmp = users / f".{user}.tmp"
            tmp.write_text(f"{user}:{{PLAIN}}{password}::::::\n")
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)

    def add_user(self, prefix: str = "user", password: str | None = None) -> ImapAccount:
        """Create a new account with an empty mailbox (unique name ``<prefix>-<hex>``)."""
        with self._lock:
            user = f"{prefix}-{secrets.token_hex(4)}"
            self._users[user] = password or secrets.token_urlsafe(12)
            if self.dir is not None:
                self._write_passwd()
            return ImapAccount(self.host, self.port, user, self._users[user])

    def account(self, user: str) -> ImapAccount:
        return ImapAccount(self.host, self.port, user, self._users[user])

    def connect(self, user: str) -> imaplib.IMAP4:
        """A logged-in imaplib client for ``user`` (caller logs out)."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            conn.login(user, self._users[user])
        except BaseException:
            conn.shutdown()
            raise
        return conn

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
        """Put a message into ``user``'s folder via IMAP APPEND (as a real client would)."""
        conn = self.connect(user)
        try:
            if folder.upper() != "INBOX":
                conn.create(folder)  # fails harmlessly when it exists
            typ, data = conn.append(folder, f"({flags})" if flags else None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND to {user}/{folder} failed: {data!r}")
        finally:
            conn.logout()

    def folder_count(self, user: str, folder: str = "INBOX") -> int:
        """Number of messages in a folder (0 when it does not exist)."""
        conn = self.connect(user)
        try:
            typ, data = conn.status(_quote(folder), "(MESSAGES)")
            if typ != "OK":
                return 0
            m = re.search(rb"MESSAGES (\d+)", data[0] or b"")
            return int(m.group(1)) if m else 0
        finally:
            conn.logout()


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # fields after the ")" of comm: state ppid pgrp ...
        rest = stat.rsplit(")", 1)[1].split()
        if int(rest[2]) == pgid and rest[0] != "Z":
            pids.append(int(entry))
    return pids


def _wait_group_gone(pgid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _group_pids(pgid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            break
        time.sleep(0.05)


_running: set[DovecotServer] = set()


@atexit.register
def _stop_all() -> None:  # last resort if a test run is interrupted
    for server in list(_running):
        server.stop(timeout=3.0)
