"""Configuration: config/defaults.toml, then the file named by MENTORMATCH_CONFIG, then environment.

Environment variables: `MENTORMATCH_<SECTION>__<KEY>` overrides any key (parsed as TOML when it
parses, else taken as a string); the secrets and the database URL have short names and are read
from the environment only.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from copy import deepcopy
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .resources import resource_dir

if TYPE_CHECKING:
    from .settings import Settings

ENV_PREFIX = "MENTORMATCH_"
# Secrets never come from a file: only these environment variables set them.
SECRET_ENV = {
    "SECRET_KEY": ("app", "secret_key"),
    "SMTP_PASSWORD": ("mail", "smtp_password"),
    "IMAP_PASSWORD": ("inbox", "imap_password"),
    "SSO_CLIENT_SECRET": ("sso", "client_secret"),
}
SHORT_ENV = {"DATABASE_URL": ("app", "database_url")}
SECRET_KEYS = {key for _, key in SECRET_ENV.values()}


class ConfigError(RuntimeError):
    pass


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = deepcopy(value)
    return base


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _reject_file_secrets(data: Mapping[str, Any], source: str) -> None:
    for section in data.values():
        if isinstance(section, Mapping):
            found = SECRET_KEYS & set(section)
            if found:
                raise ConfigError(
                    f"{source}: secrets ({', '.join(sorted(found))}) must come from the "
                    "environment, not from a file"
                )


def load_typed(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Load once and validate: a frozen typed object per section (mentormatch/settings.py).
    Raises ConfigError naming every unknown, missing or mistyped key."""
    from .settings import validate

    return validate(load_raw(environ, overrides))


@lru_cache(maxsize=1)
def standalone() -> Settings:
    """The settings as a process without an app would load them (a bench, a script, a unit
    test), loaded once: code that runs both inside and outside an app reads its defaults
    here rather than keeping a copy of defaults.toml."""
    return load_typed()


def load_raw(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The merged settings before validation (defaults, deployment file, environment)."""
    environ = os.environ if environ is None else environ
    with (resource_dir("config") / "defaults.toml").open("rb") as fh:
        settings: dict[str, Any] = tomllib.load(fh)

    deployment = environ.get(ENV_PREFIX + "CONFIG")
    if deployment:
        path = Path(deployment)
        if not path.is_file():
            raise ConfigError(f"MENTORMATCH_CONFIG points to a missing file: {path}")
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        _reject_file_secrets(data, str(path))
        _merge(settings, data)

    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        key = name[len(ENV_PREFIX):]
        if key in SECRET_ENV or key in SHORT_ENV:
            section, field = (SECRET_ENV | SHORT_ENV)[key]
            settings.setdefault(section, {})[field] = raw
        elif "__" in key:
            section, field = key.lower().split("__", 1)
            settings.setdefault(section, {})[field] = _parse_env_value(raw)

    if overrides:
        _merge(settings, overrides)
    return settings


def load_competency_catalogue() -> list[dict[str, Any]]:
    with (resource_dir("config") / "competencies.toml").open("rb") as fh:
        return list(tomllib.load(fh).get("competency", []))
