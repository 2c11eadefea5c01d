"""``yapdns migrate``: create or upgrade every schema."""

from __future__ import annotations

import click

from yapdns.cli.context import friendly_errors, store_session


@click.command()
@click.option("--store-only", is_flag=True, help="Migrate only the record store, not the application database.")
@friendly_errors
def migrate(store_only: bool) -> None:
    """Apply database migrations: the record store, then the server's application tables.

    Safe to run at every start: what is already applied is skipped.
    """
    with store_session(creates=True) as store:
        applied = store.migrate()
        click.echo(f"record store ({store.name}): " + (", ".join(applied) if applied else "up to date"))
    if not store_only:
        from yapdns.server.setup import migrate_app

        migrate_app()
