"""`mentormatch api-client create | list | revoke`: REST API clients from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from .models import API_SCOPES


@contextmanager
def _app_context() -> Iterator[None]:
    from . import create_app
    from .extensions import db

    app = create_app()
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()


@click.group("api-client")
def api_client() -> None:
    """Manage REST API clients (HR systems)."""


@api_client.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(API_SCOPES))
def create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a client; its token is printed once and cannot be shown again."""
    from .extensions import db
    from .services import api_clients

    with _app_context():
        try:
            new = api_clients.create_client(None, name, list(scopes))
        except api_clients.ApiClientError as exc:
            raise click.ClickException(f"cannot create the client: {exc.code}") from exc
        db.session.commit()
        click.echo(f"client {new.client.id} ({name}) with scopes {', '.join(new.client.scopes)}")
        click.echo("token (shown once, store it in the HR system's secret store):")
        click.echo(new.token)


@api_client.command("list")
def list_() -> None:
    """List clients, their scopes and state."""
    from .services import api_clients

    with _app_context():
        for c in api_clients.list_clients():
            state = "revoked" if c.revoked_at else "active"
            used = c.last_used_at.isoformat(timespec="seconds") if c.last_used_at else "-"
            click.echo(f"{c.id}\t{c.name}\t{' '.join(c.scopes)}\t{state}\tlast used {used}")


@api_client.command("revoke")
@click.argument("client_id", type=int)
def revoke(client_id: int) -> None:
    """Revoke a client: its token stops working at once."""
    from .extensions import db
    from .models import ApiClient
    from .services import api_clients

    with _app_context():
        client = db.session.get(ApiClient, client_id)
        if client is None:
            raise click.ClickException(f"no API client {client_id}")
        api_clients.revoke_client(None, client)
        db.session.commit()
        click.echo(f"client {client_id} revoked")
