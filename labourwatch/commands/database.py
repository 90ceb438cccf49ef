"""``labourwatch db``: schema migrations."""

from __future__ import annotations

import click

from db.migrate import current_revision, head_revision, upgrade
from labourwatch.context import AppContext, pass_app


@click.group()
def db() -> None:
    """Create or migrate the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target migration.")
@pass_app
def db_upgrade(app: AppContext, revision: str) -> None:
    """Create the schema, or migrate it to the newest version (safe to run again)."""
    database = app.database(at_head=False)
    before, after = upgrade(database, revision)
    if before == after:
        click.echo(f"database already at {after}")
    else:
        click.echo(f"database upgraded: {before or 'empty'} -> {after}")


@db.command("current")
@pass_app
def db_current(app: AppContext) -> None:
    """Show the database's migration revision and the newest one."""
    database = app.database(at_head=False)
    current, head = current_revision(database), head_revision()
    click.echo(f"current: {current or 'empty'}\nhead:    {head}")
    if current != head:
        raise click.exceptions.Exit(1)
