"""The /api/v1 REST API over HTTP: tokens and scopes, revocation, audit, rate limit, CSRF,
bulk people upsert (same rules as the file import, all or nothing), paged and filtered reads
with ETag, JP per NIP per year, dashboard figures."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from mentormatch.extensions import db
from mentormatch.models import ApiCall, ApiClient, Person, Programme, SessionLog
from mentormatch.services import api_clients, jp
from tests import factories as f
from tests.helpers import csrf_from


def _token(*scopes: str, name: str = "SIMPEG") -> str:
    new = api_clients.create_client(None, name, list(scopes))
    db.session.commit()
    return new.token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _people(n: int = 3, start: int = 1) -> list[dict]:
    return [{"nip": f"19850312201001{1}{i:03d}", "name": f"Pegawai API {i}",
             "email": f"api{i}@example.go.id", "grade": "III/a", "unit": "Dinas Kominfo",
             "location": "Padang", "availability": "Mon 09:00-12:00",
             "competencies": {"INT": {"level": 2, "target": 3}}}
            for i in range(start, start + n)]


def test_openapi_description_and_docs(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/people", "/api/v1/programmes", "/api/v1/pairs", "/api/v1/sessions",
            "/api/v1/logs", "/api/v1/jp", "/api/v1/reports/dashboard"} <= set(spec["paths"])
    assert spec["paths"]["/api/v1/jp"]["get"]["security"] == [{"bearerAuth": ["reports:read"]}]
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "POST /api/v1/people" in html and "reports:read" in html


def test_scopes_cross_scope_denial_and_bad_tokens(client):
    writer = _token("people:write", name="SIMPEG")
    reader = _token("reports:read", name="SIASN export")
    assert client.post("/api/v1/people", json={"people": _people(1)},
                       headers=_auth(writer)).status_code == 200
    # the writer reads nothing; the reader writes nothing
    for path in ("/api/v1/people", "/api/v1/jp?year=2025", "/api/v1/logs", "/api/v1/sessions"):
        resp = client.get(path, headers=_auth(writer))
        assert resp.status_code == 403, path
        assert "scope" in resp.get_json()["message"]
    assert client.post("/api/v1/people", json={"people": _people(1, 50)},
                       headers=_auth(reader)).status_code == 403
    assert client.get("/api/v1/sessions", headers=_auth(reader)).status_code == 403
    assert client.get("/api/v1/jp?year=2025", headers=_auth(reader)).status_code == 200
    # no token, a wrong secret, a token of an unknown key: 401
    assert client.get("/api/v1/jp?year=2025").status_code == 401
    key = api_clients.key_id_of(reader)
    assert client.get("/api/v1/jp?year=2025",
                      headers=_auth(f"mm_{key}_wrong")).status_code == 401
    assert client.get("/api/v1/jp?year=2025",
                      headers=_auth("mm_0000_" + reader.split("_", 2)[2])).status_code == 401
    # the secret is stored only as a hash
    row = db.session.scalar(select(ApiClient).where(ApiClient.key_id == key))
    secret = reader.split("_", 2)[2]
    assert secret not in row.secret_hash
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()


def test_admin_creates_client_token_shown_once_then_revokes(client):
    admin = f.user(("admin",))
    db.session.commit()
    f.login(client, admin)
    token = csrf_from(client, "/admin/api-clients")
    page = client.post("/admin/api-clients", data={
        "csrf_token": token, "name": "SIMPEG Dinas", "scopes": ["people:read"]})
    html = page.get_data(as_text=True)
    api_token = re.search(r'<code id="token-value">([^<]+)</code>', html).group(1)
    assert client.get("/api/v1/people", headers=_auth(api_token)).status_code == 200
    listing = client.get("/admin/api-clients").get_data(as_text=True)
    assert "SIMPEG Dinas" in listing and api_token not in listing  # shown once only
    # a coordinator cannot manage clients
    other = f.user(("coordinator",))
    db.session.commit()
    row = db.session.scalar(select(ApiClient).where(ApiClient.name == "SIMPEG Dinas"))
    client.post("/logout", data={"csrf_token": csrf_from(client, "/")})
    f.login(client, other)
    resp = client.post(f"/admin/api-clients/{row.id}/revoke",
                       data={"csrf_token": csrf_from(client, "/")})
    assert resp.status_code == 403
    assert client.get("/api/v1/people", headers=_auth(api_token)).status_code == 200
    # the admin revokes: the token stops working at once
    f.login(client, admin)
    client.post(f"/admin/api-clients/{row.id}/revoke",
                data={"csrf_token": csrf_from(client, "/admin/api-clients")})
    resp = client.get("/api/v1/people", headers=_auth(api_token))
    assert resp.status_code == 401
    # every call is in the audit log, the refused one too
    db.session.expire_all()
    calls = db.session.scalars(select(ApiCall).where(ApiCall.client_id == row.id)
                               .order_by(ApiCall.id)).all()
    assert [c.status for c in calls] == [200, 200]
    refused = db.session.scalars(select(ApiCall).where(ApiCall.client_id.is_(None))).all()
    assert any(c.status == 401 and c.path == "/api/v1/people" for c in refused)


def test_session_cookie_is_not_api_auth_and_csrf_only_exempt_for_tokens(client):
    admin = f.user(("admin",))
    db.session.commit()
    f.login(client, admin)
    # a logged-in browser (cookie, no token) gets nothing from the API
    assert client.post("/api/v1/people", json={"people": _people(1)}).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0
    # while a form of the app without its CSRF token is still refused
    resp = client.post("/admin/api-clients", data={"name": "x", "scopes": ["people:read"]})
    assert resp.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ApiClient)) == 0


def test_bulk_upsert_all_or_nothing_with_errors_per_record(client):
    token = _token("people:write", "people:read")
    people = _people(3)
    people[1]["nip"] = "19851312201001100"  # month 13 in the birth date, and 17 digits
    people[2]["grade"] = "V/z"
    resp = client.post("/api/v1/people", json={"people": people}, headers=_auth(token))
    assert resp.status_code == 422
    errors = resp.get_json()["records"]
    assert {(e["index"], e["field"]) for e in errors} == {(1, "nip"), (2, "grade")}
    assert all(e["reason"] for e in errors)
    assert "Golongan" in next(e["reason"] for e in errors if e["field"] == "grade")
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0  # nothing written
    english = client.post("/api/v1/people", json={"people": people},
                          headers={**_auth(token), "Accept-Language": "en"}).get_json()
    assert "Invalid grade" in next(e["reason"] for e in english["records"]
                                   if e["field"] == "grade")
    # a record the import's own checks reject: duplicate e-mail inside the call
    dup = _people(2)
    dup[1]["email"] = dup[0]["email"]
    resp = client.post("/api/v1/people", json={"people": dup}, headers=_auth(token))
    assert resp.status_code == 422
    assert resp.get_json()["records"][0]["field"] == "email"
    # bad JSON types are refused by the schema before the import runs
    resp = client.post("/api/v1/people", json={"people": [{"nip": 1985}]}, headers=_auth(token))
    assert resp.status_code == 422
    # all valid: written; the same again: unchanged; one changed: updated
    good = _people(3)
    resp = client.post("/api/v1/people", json={"people": good}, headers=_auth(token))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"applied": True, "new": 3, "updated": 0, "unchanged": 0}
    again = client.post("/api/v1/people", json={"people": good}, headers=_auth(token))
    assert again.get_json()["unchanged"] == 3
    good[0]["grade"] = "III/b"
    changed = client.post("/api/v1/people", json={"people": good}, headers=_auth(token))
    assert changed.get_json()["updated"] == 1
    person = db.session.scalar(select(Person).where(Person.nip == good[0]["nip"]))
    db.session.refresh(person)
    assert person.grade_label == "III/b" and person.unit.name == "Dinas Kominfo"
    assert person.competencies[0].required_level == 3


def test_etag_if_none_match_gives_304(client):
    token = _token("people:write", "people:read")
    client.post("/api/v1/people", json={"people": _people(2)}, headers=_auth(token))
    first = client.get("/api/v1/people?per_page=1", headers=_auth(token))
    assert first.status_code == 200 and first.get_json()["total"] == 2
    etag = first.headers["ETag"]
    again = client.get("/api/v1/people?per_page=1",
                       headers={**_auth(token), "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    client.post("/api/v1/people", json={"people": _people(1, 10)}, headers=_auth(token))
    changed = client.get("/api/v1/people?per_page=1",
                         headers={**_auth(token), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["total"] == 3


@pytest.fixture
def world(app):
    from mentormatch.services.demo import seed_demo

    with app.test_request_context(base_url="http://127.0.0.1"):
        seed_demo(mentors=4, mentees=8)
    db.session.commit()


def test_reads_paged_filtered_jp_and_dashboard(client, world, app):
    token = _token("programmes:read", "reports:read", "people:read")
    h = _auth(token)
    logs = db.session.scalars(select(SessionLog).where(SessionLog.status == "confirmed")
                              .order_by(SessionLog.held_on)).all()
    assert logs
    year = logs[-1].held_on.year
    body = client.get(f"/api/v1/logs?per_page=2&from={year}-01-01&to={year}-12-31",
                      headers=h).get_json()
    in_year = [g for g in logs if g.held_on.year == year]
    assert body["total"] == len(in_year) and len(body["items"]) == min(2, len(in_year))
    assert all(item["held_on"].startswith(str(year)) for item in body["items"])
    # JP per NIP per year equals the product's own JP figure
    pair_log = in_year[0]
    from mentormatch.models import Pair

    pair = db.session.get(Pair, pair_log.pair_id)
    mentee = db.session.get(Person, pair.mentee_id)
    jp_body = client.get(f"/api/v1/jp?year={year}&nip={mentee.nip}", headers=h).get_json()
    assert jp_body["total"] == 1
    expected = jp.person_jp(mentee.id, year=year)
    assert jp_body["items"][0]["jp"] == str(expected.jp)
    assert jp_body["items"][0]["minutes"] == expected.minutes > 0
    # sessions: paged and filtered by unit (a unit nobody is in gives nothing)
    sessions = client.get("/api/v1/sessions?per_page=5", headers=h).get_json()
    assert sessions["total"] > 5 and len(sessions["items"]) == 5
    page2 = client.get("/api/v1/sessions?per_page=5&page=2", headers=h).get_json()
    assert {s["id"] for s in sessions["items"]}.isdisjoint({s["id"] for s in page2["items"]})
    assert client.get("/api/v1/sessions?unit=Tidak%20Ada",
                      headers=h).get_json()["total"] == 0
    unit = mentee.unit.name
    by_unit = client.get(f"/api/v1/pairs?unit={unit}", headers=h).get_json()
    assert by_unit["total"] >= 1
    assert all(p["mentee"]["unit"] == unit for p in by_unit["items"])
    programme = db.session.scalars(select(Programme)).first()
    dash = client.get(f"/api/v1/reports/dashboard?programme_id={programme.id}", headers=h)
    assert dash.status_code == 200 and dash.get_json()["programme_id"] == programme.id
    assert "overall" in dash.get_json()
    assert client.get("/api/v1/reports/dashboard?programme_id=999999",
                      headers=h).status_code == 404
    assert client.get("/api/v1/programmes", headers=h).get_json()["total"] >= 1
    assert client.get("/api/v1/logs?from=not-a-date", headers=h).status_code == 422


def test_rate_limited_per_client(database_url, tmp_path):
    from mentormatch import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(database_url, api={"rate_limit": "3 per minute"}))
    with app.app_context():
        db.create_all()
        token = _token("people:read")
        other = _token("people:read", name="other")
        c = app.test_client()
        codes = [c.get("/api/v1/people", headers=_auth(token)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        # another client has its own budget
        assert c.get("/api/v1/people", headers=_auth(other)).status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_upsert_odd_values_are_record_errors_not_server_errors(client):
    """Found by the contract test: an over-long time-zone name made ZoneInfo raise OSError."""
    token = _token("people:write")
    people = _people(1)
    people[0]["timezone"] = "0" * 400
    resp = client.post("/api/v1/people", json={"people": people}, headers=_auth(token))
    assert resp.status_code == 422
    assert resp.get_json()["records"][0]["field"] == "timezone"
