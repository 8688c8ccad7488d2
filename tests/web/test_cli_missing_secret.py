"""Every CLI command without MENTORMATCH_SECRET_KEY: one line saying what to set, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_missing_secret_key_says_what_to_set(tmp_path):
    """`init` here; every command builds its app through the same cli._app."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORMATCH_")}
    env["PYTHONPATH"] = str(ROOT)
    env["MENTORMATCH_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    out = subprocess.run([sys.executable, "-m", "mentormatch", "init"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr + out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "MENTORMATCH_SECRET_KEY" in lines[0]
    assert "export MENTORMATCH_SECRET_KEY=" in lines[0]
