"""Typed settings: loaded and validated once, at startup, into frozen objects per section.

The values come from config/defaults.toml (the only place defaults live), the deployment file
and the environment (see config.py). Each section is a frozen model with no default values:
a key missing from defaults.toml, a key no model knows (a typo) or a value of the wrong type
stops the start with a message naming the key. Secrets (`secret_key`, `smtp_password`,
`imap_password`) come from the environment only and are read once, here.

Adding a setting: add the key with its default and a comment to config/defaults.toml and a
field of the same name and type to the section's model below; read it as
``settings().section.key``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .config import ConfigError

Hhmm = Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")]
Security = Literal["none", "starttls", "ssl"]
Secret = Annotated[str, Field(repr=False)]
#: TOML gives arrays as lists: a tuple field takes them (its items stay strictly typed)
Lax = Field(strict=False)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class AppSettings(_Section):
    database_url: str
    instance_path: str
    default_locale: str
    locales: Annotated[tuple[str, ...], Lax]
    default_timezone: str
    base_url: str
    session_cookie_secure: bool
    login_rate_limit: str
    ratelimit_storage_uri: str
    ratelimit_key_prefix: str
    ratelimit_enabled: bool
    # short-lived shared cache (report figures): redis://..., memory:// (this process) or
    # empty = the rate-limit store when that is Redis, else memory://
    cache_storage_uri: str
    login_max_failures: int
    login_lock_minutes: int
    activation_token_hours: int
    reset_token_hours: int
    proxy_count: int
    max_upload_mb: int
    # further host names the app answers to (base_url's host always is); others get 400
    trusted_hosts: Annotated[tuple[str, ...], Lax]
    testing: bool
    demo: bool
    secret_key: Secret = ""  # environment only (MENTORMATCH_SECRET_KEY)


class MailSettings(_Section):
    transport: Literal["folder", "smtp"]
    from_address: str
    from_name: str
    message_id_domain: str
    smtp_host: str
    smtp_port: int
    smtp_security: Security
    smtp_username: str
    smtp_timeout: float
    dispatch_batch: int
    max_attempts: int
    retry_base_seconds: float
    dispatch_seconds: float
    dispatch_budget_seconds: float
    claim_timeout_seconds: float
    smtp_password: Secret = ""  # environment only (MENTORMATCH_SMTP_PASSWORD)


class InboxSettings(_Section):
    enabled: bool
    imap_host: str
    imap_port: int
    imap_security: Security
    imap_username: str
    imap_folder: str
    poll_seconds: float
    processed_folder: str
    batch: int
    max_attempts: int
    authserv_id: str
    require_authenticated_sender: bool
    imap_password: Secret = ""  # environment only (MENTORMATCH_IMAP_PASSWORD)


class SchedulerSettings(_Section):
    in_process: bool
    lease_seconds: int
    leader_poll_seconds: float
    chase_after_days: int
    escalate_after_days: int
    missed_after_days: int
    digest_weekday: Annotated[int, Field(ge=0, le=6)]
    digest_hour_local: Annotated[int, Field(ge=0, le=23)]


class WeightSettings(_Section):
    gap_coverage: float
    same_location: float
    same_unit: float
    other_unit: float
    grade_distance: float
    preference: float


class SolverSettings(_Section):
    time_limit_seconds: float
    seed: int
    min_grade_steps: int
    no_direct_supervisor: bool
    no_repeat_pairs: bool
    in_person_same_city: bool
    weights: WeightSettings


class RoundSettings(_Section):
    overridable_rules: Annotated[tuple[str, ...], Lax]
    capacity_override: bool
    poll_seconds: float
    heartbeat_seconds: float
    stalled_after_seconds: float
    progress_write_seconds: float
    solve_processes: int
    preference_suggestions: int
    audit_page_size: int


class ProgrammeSettings(_Section):
    session_minutes: int
    interval_weeks: int
    session_count: int
    default_capacity: int
    mode_policy: Literal["online", "in_person", "either"]
    preferences_enabled: bool


class JpSettings(_Section):
    minutes_per_jp: int
    rounding: Literal["floor", "nearest", "half"]
    max_minutes_per_session: int
    yearly_target_jp: int


class HoursOverride(_Section):
    """Dated working hours (Ramadan): the regular keys for the days from..to (inclusive)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)
    name: str
    from_: Annotated[str, Field(alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$")]
    to: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    mon_thu: Annotated[tuple[Hhmm, Hhmm], Lax]
    fri: Annotated[tuple[Hhmm, Hhmm], Lax]
    friday_break: Annotated[tuple[Hhmm, ...], Lax] = ()
    mon_thu_break: Annotated[tuple[Hhmm, ...], Lax] = ()


class WorkingHoursSettings(_Section):
    mon_thu: Annotated[tuple[Hhmm, Hhmm], Lax]
    fri: Annotated[tuple[Hhmm, Hhmm], Lax]
    # a break: [from, to], or [] for none
    friday_break: Annotated[tuple[Hhmm, ...], Lax]
    mon_thu_break: Annotated[tuple[Hhmm, ...], Lax]
    overrides: Annotated[tuple[HoursOverride, ...], Lax]

    @field_validator("friday_break", "mon_thu_break")
    @classmethod
    def _span_or_none(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) not in (0, 2):
            raise ValueError('a break is ["HH:MM", "HH:MM"] or [] for none')
        return value


class LogbookSettings(_Section):
    max_minutes_per_day: int
    grace_days_after_end: int
    session_date_tolerance_days: int
    off_day_logs: Literal["refuse", "confirm", "allow"]


class CertificateSettings(_Section):
    font: str


class Question(_Section):
    """One evaluation question: answers are stored under ``key``; worded in Indonesian and
    English."""

    key: Annotated[str, Field(min_length=1)]
    kind: Literal["rating", "text"]
    id: str
    en: Annotated[str, Field(min_length=1)]

    def text(self, locale: str) -> str:
        """The wording in ``locale`` (English for any other)."""
        return (self.id if locale == "id" else self.en) or self.en


class EvaluationSettings(_Section):
    questions: Annotated[tuple[Question, ...], Lax, Field(min_length=1)]

    @field_validator("questions")
    @classmethod
    def _unique_keys(cls, value: tuple[Question, ...]) -> tuple[Question, ...]:
        keys = [q.key for q in value]
        if len(set(keys)) != len(keys):
            raise ValueError("every question needs its own key (answers are stored under it)")
        return value


class ReportSettings(_Section):
    pace_tolerance: float
    page_size: int
    nudge_limit: int
    cache_seconds: int


class ImportSettings(_Section):
    max_rows: int
    max_errors_shown: int
    max_errors_kept: int
    max_empty_run: int
    max_columns: int
    time_budget_seconds: float


class ApiSettings(_Section):
    rate_limit: str
    max_people_per_call: int


class SsoSettings(_Section):
    issuer: str
    client_id: str
    email_claim: str
    nip_claim: str
    groups_claim: str
    allowed_domains: Annotated[tuple[str, ...], Lax]
    password_login: bool
    scope: str
    leeway_seconds: int
    button_label: str
    client_secret: Secret = ""  # environment only (MENTORMATCH_SSO_CLIENT_SECRET)


class Settings(_Section):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)
    app: AppSettings
    mail: MailSettings
    inbox: InboxSettings
    scheduler: SchedulerSettings
    solver: SolverSettings
    rounds: RoundSettings
    programme: ProgrammeSettings
    jp: JpSettings
    working_hours: WorkingHoursSettings
    logbook: LogbookSettings
    certificate: CertificateSettings
    evaluation: EvaluationSettings
    reports: ReportSettings
    import_: Annotated[ImportSettings, Field(alias="import")]
    api: ApiSettings
    sso: SsoSettings


class SettingsError(ConfigError, ValueError):
    """A setting is missing, unknown or of the wrong type (the message names each one)."""


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            section = str(err["loc"][0]) if err["loc"] else "?"
            lines.append(f"  [{where}]: unknown setting (a typo? every key must be a field of "
                         f"the [{section}] model in mentormatch/settings.py)")
        elif err["type"] == "missing":
            lines.append(f"  [{where}]: missing (config/defaults.toml must give every default)")
        else:
            lines.append(f"  [{where}] = {err.get('input')!r}: {err['msg']}")
    return "invalid settings:\n" + "\n".join(lines)


def validate(raw: Mapping[str, Any]) -> Settings:
    """The merged raw settings as one frozen, typed object; SettingsError names each problem."""
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


_EXTENSION = "mentormatch.settings"


def install(app: Flask, typed: Settings) -> None:
    """Make ``typed`` the app's settings (once, when the app is built)."""
    app.extensions[_EXTENSION] = typed


def settings(app: Flask | None = None) -> Settings:
    """The running app's typed settings (validated once, when the app was built)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    typed: Settings = app.extensions[_EXTENSION]
    return typed
