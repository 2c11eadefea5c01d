"""``yapdns check``: Django's system checks and YAPDNS's own, ``--deploy`` for a production configuration."""

from __future__ import annotations

import sys

import click

from yapdns.cli.context import friendly_errors


@click.command()
@click.option("--deploy", is_flag=True, help="Also the deployment checks: TLS, cookies, hosts, secret key, file modes.")
@friendly_errors
def check(deploy: bool) -> None:
    """Check the configuration; exit 1 when a warning or an error is found.

    \b
    With --deploy: Django's deployment checks plus YAPDNS's own (the data
    files' modes, the hosts the server answers to, TLS). Run it with the
    environment the server runs with.
    """
    from yapdns.server.setup import setup_django

    setup_django()
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=deploy, fail_level="WARNING")
    except SystemCheckError as exc:
        click.echo(str(exc).strip(), err=True)
        sys.exit(1)
