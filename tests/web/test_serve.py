"""`mentormatch serve` runs gunicorn with several workers against one PostgreSQL database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_several_workers_share_postgres(pg_url, tmp_path):
    port = _free_port()
    env = dict(os.environ, MENTORMATCH_DATABASE_URL=pg_url, MENTORMATCH_SECRET_KEY="k" * 32)
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
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    text = out.decode(errors="replace")
    assert text.count("Booting worker") >= 3, text[-2000:]
