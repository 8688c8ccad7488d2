"""`mentormatch serve` runs gunicorn with several workers against one PostgreSQL database."""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from tests.helpers import csrf_in

# times itself or runs several servers: scripts/test runs it alone, after the parallel part
pytestmark = pytest.mark.serial


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _login_attempts(port: int, n: int) -> list[int]:
    """n wrong-password logins from one client (one cookie jar, one CSRF token)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"http://127.0.0.1:{port}/login", timeout=10) as r:
        token = csrf_in(r.read().decode())
    body = urllib.parse.urlencode({"email": "nobody@example.go.id", "password": "x" * 12,
                                   "csrf_token": token}).encode()
    codes = []
    for _ in range(n):
        try:
            with opener.open(f"http://127.0.0.1:{port}/login", data=body, timeout=10) as r:
                codes.append(r.status)
        except urllib.error.HTTPError as exc:
            codes.append(exc.code)
    return codes


def test_serve_several_workers_share_postgres(empty_pg_url, tmp_path):
    port = _free_port()
    env = dict(os.environ, MENTORMATCH_DATABASE_URL=empty_pg_url, MENTORMATCH_SECRET_KEY="k" * 32,
               # the production setting: one rate-limit store for every worker (the local Redis)
               MENTORMATCH_APP__RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
               MENTORMATCH_APP__RATELIMIT_KEY_PREFIX=f"mm-test-{uuid.uuid4().hex}",
               MENTORMATCH_APP__LOGIN_RATE_LIMIT="6 per minute",
               MENTORMATCH_APP__SESSION_COOKIE_SECURE="false")
    subprocess.run([sys.executable, "-m", "mentormatch.cli", "init"], env=env, check=True,
                   capture_output=True, timeout=120)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mentormatch.cli", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "3"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        answers = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(answers) < 20:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    answers.append((r.status, r.read()))
            except OSError:
                time.sleep(0.3)
        assert len(answers) == 20
        assert all(status == 200 and b'"database":"ok"' in body for status, body in answers)
        assert _login_attempts(port, 9) == [200] * 6 + [429] * 3  # counted across workers
        for path in ("/reset/SeCrEt-Reset-Token.abc", "/feed/SeCrEtFeedToken.ics"):
            with contextlib.suppress(OSError):  # a 404 is fine: only the log line matters
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    text = out.decode(errors="replace")
    assert text.count("Booting worker") >= 3, text[-2000:]
    assert "SeCrEt" not in text and "/reset/[redacted]" in text, text[-2000:]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_stops_its_workers_on_sigterm(tmp_path):
    """A service manager signals the process it started: that must be the gunicorn master,
    which stops its workers gracefully and frees the port."""
    port = _free_port()
    env = dict(os.environ, MENTORMATCH_DATABASE_URL=f"sqlite:///{tmp_path / 'mm.db'}",
               MENTORMATCH_SECRET_KEY="k" * 32, MENTORMATCH_APP__SESSION_COOKIE_SECURE="false",
               # several workers need a shared login-throttling store (serve refuses memory://)
               MENTORMATCH_APP__RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
               MENTORMATCH_APP__RATELIMIT_KEY_PREFIX=f"mm-test-{uuid.uuid4().hex}")
    subprocess.run([sys.executable, "-m", "mentormatch.cli", "init"], env=env, check=True,
                   capture_output=True, timeout=120)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mentormatch.cli", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--graceful-timeout", "10"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        ok = False
        while time.monotonic() < deadline and not ok:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    ok = r.status == 200
            except OSError:
                time.sleep(0.3)
        assert ok
        proc.send_signal(signal.SIGTERM)  # the started process only, as systemd's KillMode=mixed
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
        deadline = time.monotonic() + 10
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _group_alive(proc.pid), "gunicorn processes outlived serve"
        with socket.socket() as s:  # the port is free again (for a restart, like gunicorn's)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen()
        text = out.decode(errors="replace")
        assert "Handling signal: term" in text and "Shutting down: Master" in text, text[-2000:]
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
