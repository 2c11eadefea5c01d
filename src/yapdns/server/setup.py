"""Bootstrapping Django outside manage.py: for the CLI and the WSGI server."""

from __future__ import annotations

import os

import django

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
