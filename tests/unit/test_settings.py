"""Typed settings: validated once at startup, frozen, defaults only in config/defaults.toml."""

import tomllib
from datetime import date

import pytest
from pydantic import ValidationError

from mentormatch import create_app
from mentormatch.config import ConfigError, load_typed
from mentormatch.resources import resource_dir
from mentormatch.settings import Settings, settings


def test_wrong_type_stops_the_start_naming_the_key():
    env = {"MENTORMATCH_MAIL__SMTP_PORT": "dua lima"}
    with pytest.raises(ConfigError, match=r"\[mail\.smtp_port\] = 'dua lima'"):
        load_typed(environ=env)
    with pytest.raises(ConfigError, match=r"\[jp\.rounding\]"):
        load_typed(environ={}, overrides={"jp": {"rounding": "up"}})


def test_unknown_key_stops_the_start(tmp_path):
    f = tmp_path / "prod.toml"
    f.write_text('[scheduler]\nchase_after_dayz = 5\n')
    with pytest.raises(ConfigError, match=r"\[scheduler\.chase_after_dayz\]: unknown setting"):
        load_typed(environ={"MENTORMATCH_CONFIG": str(f)})
    with pytest.raises(ConfigError, match=r"\[reportz\]: unknown setting"):
        load_typed(environ={"MENTORMATCH_REPORTZ__PAGE_SIZE": "5"})


def test_defaults_live_only_in_defaults_toml():
    """Every field is required (no default in the code) except the environment-only secrets,
    and defaults.toml gives each one."""
    with (resource_dir("config") / "defaults.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    secrets = {("app", "secret_key"), ("mail", "smtp_password"), ("inbox", "imap_password"),
               ("sso", "client_secret")}
    for attr, field in Settings.model_fields.items():
        name = field.alias or attr  # [import] is the field import_
        section = field.annotation
        for key, sub in section.model_fields.items():
            if (name, key) in secrets:
                continue
            assert sub.is_required(), f"[{name}] {key} has a default in the code"
            assert key in raw[name], f"[{name}] {key} is missing from defaults.toml"


def test_frozen_and_typed():
    s = load_typed(environ={})
    assert s.solver.seed == 7 and s.jp.max_minutes_per_session == 120
    assert isinstance(s.mail.smtp_timeout, float)
    with pytest.raises(ValidationError):
        s.mail.smtp_port = 1


def test_passwords_are_read_once_and_not_shown(monkeypatch):
    from mentormatch.services.dispatch import make_transport

    monkeypatch.setenv("MENTORMATCH_SMTP_PASSWORD", "rahasia-smtp")
    monkeypatch.setenv("MENTORMATCH_IMAP_PASSWORD", "rahasia-imap")
    app = create_app({"app": {"testing": True, "database_url": "sqlite://"},
                      "mail": {"transport": "smtp", "smtp_username": "mm"},
                      "inbox": {"imap_username": "mm"}})
    monkeypatch.delenv("MENTORMATCH_SMTP_PASSWORD")
    monkeypatch.delenv("MENTORMATCH_IMAP_PASSWORD")
    with app.app_context():
        from mentormatch.jobs.tasks import inbox_settings

        assert make_transport(app).settings.password == "rahasia-smtp"
        assert inbox_settings().password == "rahasia-imap"
        assert "rahasia" not in repr(settings())


def test_solver_seed_and_programme_defaults_come_from_the_file(app, db):
    """The drifted code defaults are gone: seed 7 (not 0), the JP cap 120 (not 0)."""
    from mentormatch.services import programmes, solver_bridge
    from tests import factories as f

    prog = programmes.create(f.user(("coordinator",)), name="P", start_date=date(2027, 1, 1),
                             end_date=date(2027, 6, 30))
    assert solver_bridge.config_for(prog, solver_bridge.criteria_of(None)).seed == 7
    assert prog.jp_rule["max_minutes_per_session"] == 120
    assert prog.session_count == 6 and prog.preferences_enabled is False


def test_validated_once_when_the_app_is_built(app):
    """One typed object per app, no dict copy beside it; changing a setting (here through
    the tests' helper) validates again like a start."""
    from tests.helpers import set_settings

    assert "MM" not in app.config
    assert settings() is settings(app) and isinstance(settings(), Settings)
    set_settings(app, mail={"max_attempts": 3})
    assert settings().mail.max_attempts == 3
    with pytest.raises(ConfigError, match=r"\[mail\.max_attempts\] = 'drei'"):
        set_settings(app, mail={"max_attempts": "drei"})
    assert settings().mail.max_attempts == 3


def test_wrong_setting_given_to_create_app_stops_the_start():
    base = {"app": {"testing": True, "database_url": "sqlite://"}}
    with pytest.raises(ConfigError, match=r"\[mail\.max_attempts\] = 'drei'"):
        create_app({**base, "mail": {"max_attempts": "drei"}})
    with pytest.raises(ConfigError, match=r"\[mail\.max_attempt\]: unknown setting"):
        create_app({**base, "mail": {"max_attempt": 3}})
