"""Health check, schema migrations, demo data and the CLI."""

from __future__ import annotations

from sqlalchemy import func, select, text

from mentormatch.models import Location, Person, User


def test_healthz(client):
    body = client.get("/healthz").get_json()
    assert body["database"] == "ok" and body["scheduler"]["state"] == "none"


def test_migrations_match_models(app, db):
    """Alembic's head builds exactly the schema the models describe (on both backends)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from mentormatch.services import schema

    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    schema.upgrade()
    assert schema.current_revision() == schema.head_revision()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []
    schema.upgrade()  # idempotent


def test_demo_seed(app, db):
    from mentormatch.services.demo import seed_demo

    logins = seed_demo()
    db.session.commit()
    assert db.session.scalar(select(func.count(Person.id))) >= 210
    cities = set(db.session.scalars(select(Location.city)))
    assert {"Padang", "Palembang", "Surabaya", "Palu", "Bandung"} <= cities
    assert {"admin", "coordinator", "mentor", "mentee"} <= {
        r for roles in logins.values() for r in roles.split(", ")}
    from mentormatch.services.nip import parse_nip
    nips = db.session.scalars(select(Person.nip).where(Person.nip.is_not(None))).all()
    assert len(nips) > 150
    for nip in nips:  # the demo obeys the importer's NIP rules (NipError otherwise)
        parse_nip(nip)
    # Two programmes share mentors, both approved, and nobody holds two overlapping sessions.
    shared = db.session.execute(text(
        "SELECT COUNT(DISTINCT a.mentor_id) FROM pair a JOIN pair b "
        "ON a.mentor_id = b.mentor_id AND a.programme_id < b.programme_id")).scalar()
    assert shared >= 5
    per_programme = db.session.execute(text(
        "SELECT p.programme_id, COUNT(*) FROM session s "
        "JOIN session_series ss ON ss.id = s.series_id JOIN pair p ON p.id = ss.pair_id "
        "WHERE s.status != 'cancelled' GROUP BY p.programme_id")).all()
    assert len(per_programme) == 2 and all(n > 50 for _p, n in per_programme)
    clashes = db.session.execute(text(
        "WITH busy AS ("
        " SELECT s.id, s.start_at, s.end_at, p.mentor_id AS person_id FROM session s"
        " JOIN session_series ss ON ss.id = s.series_id JOIN pair p ON p.id = ss.pair_id"
        " WHERE s.status != 'cancelled'"
        " UNION ALL"
        " SELECT s.id, s.start_at, s.end_at, p.mentee_id FROM session s"
        " JOIN session_series ss ON ss.id = s.series_id JOIN pair p ON p.id = ss.pair_id"
        " WHERE s.status != 'cancelled')"
        " SELECT a.person_id, a.start_at, b.start_at FROM busy a JOIN busy b"
        " ON a.person_id = b.person_id AND a.id < b.id"
        " AND a.start_at < b.end_at AND b.start_at < a.end_at")).all()
    assert clashes == []
    assert seed_demo() == logins  # a second run adds nothing
    assert db.session.scalar(select(func.count(User.id))) == 4


def test_cli_init_and_user_create(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from mentormatch.cli import main

    monkeypatch.setenv("MENTORMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("MENTORMATCH_SECRET_KEY", "test-secret")
    runner = CliRunner()
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert "latest schema" in result.output
    result = runner.invoke(main, ["user", "create", "koord@example.go.id", "--role",
                                  "coordinator"])
    assert result.exit_code == 0, result.output
    assert "activation mail queued" in result.output
    result = runner.invoke(main, ["user", "create", "koord@example.go.id", "--role",
                                  "coordinator"])
    assert result.exit_code != 0 and "already exists" in result.output
