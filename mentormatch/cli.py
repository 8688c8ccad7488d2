"""`mentormatch` command: init | import | demo | serve | scheduler | user create."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from . import create_app
from .settings import Settings, settings


def _app(**overrides):
    """The app, or one line saying which setting is missing (no traceback)."""
    from .config import ConfigError

    try:
        return create_app(overrides or None)
    except ConfigError as exc:
        hint = str(exc)
        if "MENTORMATCH_SECRET_KEY" in hint:
            hint += ("; set it to a long random value, e.g. export MENTORMATCH_SECRET_KEY="
                     "$(python -c 'import secrets; print(secrets.token_hex(32))')")
        raise click.ClickException(hint) from None


@click.group()
def main() -> None:
    """MentorMatch ASN administration."""


@main.command()
def init() -> None:
    """Create or upgrade the database (Alembic) and sync the competency catalogue."""
    app = _app()
    with app.app_context():
        _init_db()
    click.echo("database is at the latest schema")


def _init_db() -> None:
    from .extensions import db
    from .services import catalogue, schema

    schema.upgrade()
    changed = catalogue.sync_competencies()
    db.session.commit()
    click.echo(f"schema revision {schema.current_revision()}; competencies updated: {changed}")


@main.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--lang", default="id", type=click.Choice(["id", "en"]))
def import_cmd(path: Path, dry_run: bool, lang: str) -> None:
    """Import staff from a CSV or XLSX file (all-or-nothing; upserts by NIP)."""
    from .extensions import db
    from .services.staff_import import run_import_cli

    app = _app()
    with app.app_context():
        ok = run_import_cli(path, dry_run=dry_run, echo=click.echo, locale=lang)
        if ok and not dry_run:
            db.session.commit()
        else:
            db.session.rollback()
    sys.exit(0 if ok else 1)


_CLI_ERRORS = {
    "email_taken": "an account with this e-mail already exists",
    "unknown_role": "unknown role",
    "password_too_short": "the password needs at least 10 characters",
}


@main.group()
def user() -> None:
    """Manage user accounts."""


@user.command("create")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["admin", "coordinator", "mentor", "mentee"]))
@click.option("--person-nip", default=None, help="Link the account to this person.")
@click.option("--password", default=None, help="Set directly (else an activation mail is sent).")
def user_create(email: str, roles: tuple[str, ...], person_nip: str | None,
                password: str | None) -> None:
    from sqlalchemy import select

    from .extensions import db
    from .models import Person
    from .services import accounts

    app = _app()
    with app.app_context(), app.test_request_context(base_url=settings(app).app.base_url):
        person = None
        if person_nip:
            person = db.session.scalar(select(Person).where(Person.nip == person_nip))
            if person is None:
                raise click.ClickException(f"no person with NIP {person_nip}")
        try:
            account = accounts.create_user(email, list(roles), password=password, person=person)
        except accounts.AccountError as exc:
            raise click.ClickException(_CLI_ERRORS.get(exc.code, exc.code)) from exc
        if password is None:
            accounts.send_activation(account)
        db.session.commit()
    click.echo(f"user {email} created with roles {', '.join(roles)}"
               + ("" if password else "; activation mail queued"))


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--instance", default=None, help="Folder for the demo database and outbox.")
def demo(host: str, port: int, instance: str | None) -> None:
    """Run the product on its embedded defaults with demo data, in one process."""
    overrides: dict[str, dict[str, Any]] = {
        "app": {"demo": True, "session_cookie_secure": False,
                "base_url": f"http://{host}:{port}",
                "trusted_hosts": ["localhost", "127.0.0.1"]},
                 "scheduler": {"in_process": True}}
    if instance:
        overrides["app"]["instance_path"] = instance
    app = _app(**overrides)
    with app.app_context():
        from .extensions import db
        from .services.demo import DEMO_PASSWORD, DemoError, seed_demo

        _init_db()
        try:
            with app.test_request_context(base_url=f"http://{host}:{port}"):
                logins = seed_demo(progress=click.echo)
                db.session.commit()
        except DemoError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
    _start_in_process_scheduler(app)
    click.echo("")
    click.echo(f"MentorMatch demo running at http://{host}:{port}/")
    click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
    for email, roles in logins.items():
        click.echo(f"  {roles:<12} {email}")
    click.echo(f"Mail goes to {Path(app.instance_path) / 'outbox'} (see Mailbox in the menu).")
    from werkzeug.serving import run_simple

    from .access_log import _werkzeug_handler

    run_simple(host, port, app, threaded=True, use_reloader=False,
               request_handler=_werkzeug_handler())  # tokens redacted as in `serve`


def _start_in_process_scheduler(app) -> None:
    from .jobs.runner import run_scheduler

    run_scheduler(app, in_process=True)


@main.command()
@click.option("--bind", default="127.0.0.1:8000")
@click.option("--workers", default=None, type=int, help="Default: CPU + 1.")
@click.option("--graceful-timeout", default=30, type=int,
              help="Seconds in-flight requests get to finish after SIGTERM.")
def serve(bind: str, workers: int | None, graceful_timeout: int) -> None:
    """Run the production WSGI server (gunicorn, several workers).

    The command replaces itself with the gunicorn master (same process id), so a service
    manager's SIGTERM reaches gunicorn directly: workers finish their requests (up to
    ``--graceful-timeout``), then everything exits and the port is free."""
    # Pages are CPU-bound (20-40 ms of Python, ~8 ms in the database), so workers beyond the
    # cores only add switching and memory: on 2 cores, 3 workers gave p95 428 ms where 5 gave
    # 565 ms (bench/load_bench.py, 20 users). One spare worker covers a request waiting on I/O.
    workers = workers or default_workers()
    _refuse_unsafe(workers=workers)
    cmd = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", bind,
           "--graceful-timeout", str(graceful_timeout),
           "--access-logfile", "-", "--logger-class", "mentormatch.access_log.RedactingLogger",
           "--forwarded-allow-ips", "127.0.0.1", "mentormatch.wsgi:app"]
    click.echo(f"serving on http://{bind} with {workers} workers")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, cmd)


@main.command()
def scheduler() -> None:
    """Run the job scheduler (one process per deployment holds the lead; others stand by)."""
    from .jobs.runner import run_scheduler

    _refuse_unsafe(workers=1)
    run_scheduler(_app(), in_process=False)


def default_workers() -> int:
    """gunicorn workers when the operator names none: one per core, plus one."""
    return (os.cpu_count() or 1) + 1


def unsafe_settings(settings: Settings, workers: int) -> list[str]:
    """Settings `serve` and `scheduler` refuse to run with (see README, Production)."""
    problems = []
    storage = settings.app.ratelimit_storage_uri
    if workers > 1 and storage.startswith("memory://"):
        problems.append(
            f"app.ratelimit_storage_uri is {storage} but {workers} workers would each count "
            "login attempts on their own; set a shared store (e.g. "
            "MENTORMATCH_APP__RATELIMIT_STORAGE_URI=redis://host:6379/0) or --workers 1")
    organizer = settings.mail.from_address.strip().lower()
    if (settings.mail.transport == "smtp" or settings.inbox.enabled) and (
            organizer.endswith("@localhost") or "@" not in organizer):
        problems.append(
            f"mail.from_address is {organizer or '(empty)'}: invitations and replies need a "
            "real organizer address (MENTORMATCH_MAIL__FROM_ADDRESS=mentoring@your.go.id)")
    return problems


def _refuse_unsafe(workers: int) -> None:
    from .config import load_typed

    typed = load_typed()
    problems = unsafe_settings(typed, workers)
    if problems:
        raise click.ClickException("refusing to start:\n  - " + "\n  - ".join(problems))
    base = typed.app.base_url
    if base.startswith(("http://127.0.0.1", "http://localhost")):
        click.echo(f"warning: app.base_url is {base}; links in e-mails will not work for "
                   "others (set MENTORMATCH_APP__BASE_URL)", err=True)


from .cli_api import api_client as _api_client  # noqa: E402

main.add_command(_api_client)


if __name__ == "__main__":
    main()
