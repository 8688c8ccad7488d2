"""Access: anonymous, wrong role, another person's page; every view declares its access rule."""

from __future__ import annotations

import pytest

from tests import factories as f


def test_every_view_declares_access(app):
    undeclared = [
        name for name, view in app.view_functions.items()
        if name != "static" and not hasattr(view, "_access")
    ]
    assert undeclared == []


@pytest.mark.parametrize("path", ["/", "/people/", "/people/1", "/dev/mailbox/"])
def test_anonymous_redirected_to_login(client, path):
    resp = client.get(path)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_mentee_cannot_list_people(client, db):
    me = f.person("Mentee Satu")
    u = f.user(["mentee"], person_row=me)
    db.session.commit()
    f.login(client, u)
    assert client.get("/people/").status_code == 403
    assert client.get("/dev/mailbox/").status_code == 403


def test_mentee_sees_own_page_not_others(client, db):
    me = f.person("Mentee Satu")
    other = f.person("Orang Lain")
    u = f.user(["mentee"], person_row=me)
    db.session.commit()
    f.login(client, u)
    assert client.get(f"/people/{me.id}").status_code == 200
    resp = client.get(f"/people/{other.id}")
    assert resp.status_code == 404  # existence is private too
    assert "Orang Lain" not in resp.get_data(as_text=True)


def test_coordinator_sees_people(client, db):
    p = f.person("Siti Rahmawati")
    u = f.user(["coordinator"])
    db.session.commit()
    f.login(client, u)
    assert "Siti Rahmawati" in client.get("/people/").get_data(as_text=True)
    assert client.get(f"/people/{p.id}").status_code == 200


def test_unknown_person_is_404_without_trace(client, db):
    u = f.user(["coordinator"])
    db.session.commit()
    f.login(client, u)
    resp = client.get("/people/99999")
    assert resp.status_code == 404
    assert "Traceback" not in resp.get_data(as_text=True)


def test_security_headers(client):
    resp = client.get("/login")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
