"""Admin sides of the integrations over HTTP and the CLI: SSO group mappings (admin only),
SSO off by default, `mentormatch api-client create | list | revoke`."""

from __future__ import annotations

from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import ApiClient, SsoGroupRole
from tests import factories as f
from tests.helpers import csrf_from


def test_sso_off_by_default_and_group_mapping_admin_only(client):
    assert client.get("/login/sso").status_code == 404
    assert 'id="sso-login"' not in client.get("/login").get_data(as_text=True)
    coordinator = f.user(("coordinator",))
    admin = f.user(("admin",))
    db.session.commit()
    f.login(client, coordinator)
    assert client.get("/admin/sso-groups").status_code == 403
    f.login(client, admin)
    token = csrf_from(client, "/admin/sso-groups")
    client.post("/admin/sso-groups", data={"csrf_token": token, "group": "mm-koordinator",
                                           "role": "coordinator"})
    client.post("/admin/sso-groups", data={"csrf_token": token, "group": "x", "role": "root"})
    rows = db.session.scalars(select(SsoGroupRole)).all()
    assert [(r.group_name, r.role) for r in rows] == [("mm-koordinator", "coordinator")]
    page = client.get("/admin/sso-groups").get_data(as_text=True)
    assert "mm-koordinator" in page and "Grup single sign-on" in page
    client.post(f"/admin/sso-groups/{rows[0].id}/delete", data={"csrf_token": token})
    assert db.session.scalars(select(SsoGroupRole)).all() == []


def test_api_client_cli(app, database_url, tmp_path):
    from click.testing import CliRunner

    from mentormatch.cli import main

    env = {"MENTORMATCH_DATABASE_URL": database_url, "MENTORMATCH_APP__TESTING": "true",
           "MENTORMATCH_APP__INSTANCE_PATH": str(tmp_path)}

    def cli(*args: str):
        return CliRunner().invoke(main, ["api-client", *args], env=env)

    made = cli("create", "SIMPEG", "--scope", "people:write", "--scope", "reports:read")
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert token.startswith("mm_")
    row = db.session.scalar(select(ApiClient))
    assert row.scopes == ["people:write", "reports:read"] and token not in row.secret_hash
    client = app.test_client()
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/jp?year=2026", headers=h).status_code == 200
    assert "SIMPEG" in cli("list").output
    assert cli("revoke", str(row.id)).exit_code == 0
    db.session.rollback()  # the test's session must not serve the row as it was before
    assert client.get("/api/v1/jp?year=2026", headers=h).status_code == 401
    assert cli("create", "x", "--scope", "admin:all").exit_code != 0


def test_sso_client_secret_only_from_the_environment(tmp_path):
    import pytest

    from mentormatch.config import ConfigError, load_typed

    env = {"MENTORMATCH_SSO_CLIENT_SECRET": "from-env",
           "MENTORMATCH_SSO__ISSUER": "https://sso.example.go.id/realms/pemda",
           "MENTORMATCH_SSO__CLIENT_ID": "mentormatch"}
    sso = load_typed(environ=env).sso
    assert (sso.issuer, sso.client_id, sso.client_secret) == (
        "https://sso.example.go.id/realms/pemda", "mentormatch", "from-env")
    deployment = tmp_path / "prod.toml"
    deployment.write_text('[sso]\nclient_secret = "in-a-file"\n')
    with pytest.raises(ConfigError):
        load_typed(environ={"MENTORMATCH_CONFIG": str(deployment)})
