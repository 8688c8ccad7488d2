import pytest

from mentormatch.config import ConfigError, load_typed


def test_defaults_load():
    s = load_typed(environ={})
    assert s.jp.minutes_per_jp == 45
    assert s.app.default_locale == "id"


def test_deployment_file_then_env(tmp_path):
    f = tmp_path / "prod.toml"
    f.write_text('[mail]\nsmtp_host = "smtp.example"\nsmtp_port = 587\n')
    env = {"MENTORMATCH_CONFIG": str(f), "MENTORMATCH_MAIL__SMTP_PORT": "2525",
           "MENTORMATCH_SECRET_KEY": "s3cret", "MENTORMATCH_DATABASE_URL": "sqlite://"}
    s = load_typed(environ=env)
    assert s.mail.smtp_host == "smtp.example"
    assert s.mail.smtp_port == 2525
    assert s.app.secret_key == "s3cret"
    assert s.app.database_url == "sqlite://"


def test_secrets_refused_in_files(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('[app]\nsecret_key = "oops"\n')
    with pytest.raises(ConfigError, match="environment"):
        load_typed(environ={"MENTORMATCH_CONFIG": str(f)})


def test_missing_deployment_file():
    with pytest.raises(ConfigError, match="missing"):
        load_typed(environ={"MENTORMATCH_CONFIG": "/nonexistent.toml"})


def test_production_needs_secret_key(monkeypatch):
    from mentormatch import create_app

    monkeypatch.delenv("MENTORMATCH_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"app": {"database_url": "sqlite://"}})
