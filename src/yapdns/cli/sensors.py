"""``yapdns sensor``: register sensors and manage their ingest tokens."""

from __future__ import annotations

import click

from yapdns.cli.accounts import _django
from yapdns.cli.context import friendly_errors


@click.group()
def sensor() -> None:
    """Manage sensors (agents, integrations) and their ingest-only tokens."""


@sensor.command("add")
@click.argument("name")
@click.option("--description", default="")
@click.option("--token-only", is_flag=True, help="Print only the token (for scripts).")
@friendly_errors
def sensor_add(name: str, description: str, token_only: bool) -> None:
    """Register sensor NAME and print its ingest token (shown once)."""
    _django()
    from yapdns.server.sensors.services import create_sensor

    _, secret = create_sensor(name, description)
    if not token_only:
        click.echo(f"sensor {name!r} created; its ingest token (shown once, store it now):")
    click.echo(secret)


@sensor.command("token")
@click.argument("name")
@friendly_errors
def sensor_token(name: str) -> None:
    """Add another ingest token to sensor NAME (e.g. to rotate) and print it once."""
    _django()
    from yapdns.core.errors import ConfigurationError
    from yapdns.server.sensors.models import Sensor
    from yapdns.server.sensors.services import add_sensor_token

    found = Sensor.objects.filter(name=name, revoked_at__isnull=True).first()
    if found is None:
        raise ConfigurationError(f"no active sensor {name!r}")
    click.echo(add_sensor_token(found))


@sensor.command("list")
@friendly_errors
def sensor_list() -> None:
    """List sensors with their health counters."""
    _django()
    from yapdns.server.sensors.models import Sensor

    click.echo("name\tstate\tlast seen\tbatches\taccepted\trejected")
    for row in Sensor.objects.all():
        seen = row.last_seen_at.isoformat(timespec="seconds") if row.last_seen_at else "never"
        state = "active" if row.active else "revoked"
        click.echo(f"{row.name}\t{state}\t{seen}\t{row.batches_total}\t{row.accepted_total}\t{row.rejected_total}")


@sensor.command("revoke")
@click.argument("name")
@friendly_errors
def sensor_revoke(name: str) -> None:
    """Revoke sensor NAME and all its tokens (its data stays)."""
    _django()
    from yapdns.server.sensors.services import revoke_sensor

    revoke_sensor(name)
    click.echo(f"sensor {name!r} revoked")
