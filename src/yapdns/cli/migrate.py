"""``yapdns migrate``: create or upgrade every schema."""

from __future__ import annotations

import click

from yapdns.cli.context import friendly_errors, store_session


@click.command()
@click.option("--store-only", is_flag=True, help="Migrate only the record store, not the application database.")
@click.option("--plan", is_flag=True, help="Show the migrations that would run, and change nothing.")
@friendly_errors
def migrate(store_only: bool, plan: bool = False) -> None:
    """Apply database migrations: the record store, then the server's application tables.

    Safe to run at every start: what is already applied is skipped. Back up first
    (yapdns backup, or pg_dump): a migration is not undone.
    """
    if plan:
        _plan(store_only)
        return
    with store_session(creates=True) as store:
        applied = store.migrate()
        click.echo(f"record store ({store.name}): " + (", ".join(applied) if applied else "up to date"))
    if not store_only:
        from yapdns.server.setup import migrate_app

        migrate_app()


def _plan(store_only: bool) -> None:
    from yapdns.storage.observe import ReadinessProbe

    with store_session(creates=True) as store:
        if not isinstance(store, ReadinessProbe):
            raise click.ClickException(f"the {store.name} store cannot list its pending migrations")
        todo = store.pending_migrations()
        click.echo(f"record store ({store.name}): " + (", ".join(todo) if todo else "up to date"))
    if not store_only:
        from yapdns.server.setup import setup_django

        setup_django()
        from django.core.management import call_command

        click.echo("application database:")
        call_command("migrate", plan=True, verbosity=1)
