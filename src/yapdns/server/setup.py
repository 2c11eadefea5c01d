"""Bootstrapping Django outside manage.py: for the CLI and the WSGI server."""

from __future__ import annotations

import os

import django

from yapdns.core.errors import ConfigurationError

_done = False


def setup_django() -> None:
    """Configure Django once per process (idempotent)."""
    global _done  # noqa: PLW0603  (process-wide one-time setup)
    if _done:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yapdns.server.settings")
    django.setup()
    from yapdns.server import deploy_checks  # noqa: F401  (registers them)

    _done = True


def migrate_app(verbosity: int = 1) -> None:
    """Apply Django's migrations (users, sensors, tokens, sessions)."""
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def pending_app_migrations() -> list[str]:
    """``app.name`` of each application migration not applied yet (all of them on a database never migrated)."""
    setup_django()
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())]


def require_app_migrated() -> None:
    """Refuse, saying what to run, an application database with migrations pending."""
    pending = pending_app_migrations()
    if pending:
        shown = ", ".join(pending[:3]) + (f" and {len(pending) - 3} more" if len(pending) > 3 else "")
        raise ConfigurationError(f"the application database is not migrated ({shown} pending): "
                                 "run `yapdns migrate` first")
