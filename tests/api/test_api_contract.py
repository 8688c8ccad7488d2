"""Contract test: schemathesis generates requests from /api/v1/openapi.json and sends them to
the running app over HTTP (loopback, bounded examples); no answer may be a server error or
break the described schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from mentormatch import create_app
from mentormatch.extensions import db
from tests.conftest import make_settings


@pytest.fixture
def live_api(tmp_path):
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'api.db'}",
                                   api={"rate_limit": "100000 per minute"}))
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        from mentormatch.services import api_clients
        from mentormatch.services.demo import seed_demo

        db.create_all()
        with app.test_request_context(base_url="http://127.0.0.1"):
            seed_demo(mentors=4, mentees=8)
        token = api_clients.create_client(None, "contract", [
            "people:write", "people:read", "programmes:read", "reports:read"]).token
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", token
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_api, tmp_path):
    url, token = live_api
    exe = shutil.which("schemathesis") or shutil.which("st")
    cmd = ([exe] if exe else [sys.executable, "-m", "schemathesis.cli"]) + [
        "run", f"{url}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--phases", "examples,fuzzing",
        "--max-examples", "8", "--seed", "16", "--workers", "1",
        "--request-timeout", "20", "--no-shrink",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Tested: 8" in done.stdout, done.stdout[-3000:]  # every operation was exercised
