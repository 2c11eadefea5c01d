"""Creating and revoking sensors and their ingest tokens, and counting what they ingest: shared by the CLI, the API
and the dashboard (users' query tokens are ``accounts/services.py``)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from yapdns.core.errors import ConfigurationError
from yapdns.server import tokens
from yapdns.server.sensors.models import SENSOR_NAME, Sensor, SensorToken


def create_sensor(name: str, description: str = "", by: User | None = None) -> tuple[Sensor, str]:
    """Create a sensor with a first token; return it and the token (shown once)."""
    try:
        SENSOR_NAME(name)
    except ValidationError as exc:
        raise ConfigurationError(" ".join(exc.messages)) from None
    with transaction.atomic():
        if Sensor.objects.filter(name=name).exists():
            raise ConfigurationError(f"a sensor named {name!r} exists already; use `yapdns sensor token {name}`")
        sensor = Sensor.objects.create(name=name, description=description, created_by=by)
        return sensor, add_sensor_token(sensor)


def add_sensor_token(sensor: Sensor) -> str:
    """A new ingest token for ``sensor`` (returned once)."""
    new = tokens.generate("sensor")
    SensorToken.objects.create(sensor=sensor, prefix=new.prefix, digest=new.digest)
    return new.token


def revoke_sensor(name: str) -> Sensor:
    """Revoke a sensor and all its tokens; its data stays."""
    sensor = Sensor.objects.filter(name=name).first()
    if sensor is None:
        raise ConfigurationError(f"no sensor named {name!r}")
    now = timezone.now()
    with transaction.atomic():
        sensor.revoked_at = sensor.revoked_at or now
        sensor.save(update_fields=["revoked_at"])
        sensor.tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
    return sensor


def record_ingest(sensor_id: int, accepted: int, rejected: int, replayed: bool) -> None:
    """Bump a sensor's health counters after an ingest request."""
    Sensor.objects.filter(pk=sensor_id).update(
        last_seen_at=timezone.now(),
        batches_total=F("batches_total") + 1,
        replayed_total=F("replayed_total") + int(replayed),
        accepted_total=F("accepted_total") + (0 if replayed else accepted),
        rejected_total=F("rejected_total") + (0 if replayed else rejected),
    )


def record_refusal(sensor_id: int, *, failed: bool = False) -> None:
    """Count a batch refused whole (a 4xx), or one the server failed to apply (``failed``: a 500)."""
    field = "failed_total" if failed else "refused_total"
    Sensor.objects.filter(pk=sensor_id).update(last_seen_at=timezone.now(), **{field: F(field) + 1})


def revoke_sensor_token(sensor: Sensor, token_id: int) -> SensorToken:
    """Revoke one ingest token of ``sensor``; the sensor and its other tokens stay."""
    row = sensor.tokens.filter(pk=token_id).first()
    if row is None:
        raise ConfigurationError(f"sensor {sensor.name!r} has no token with id {token_id}")
    row.revoked_at = row.revoked_at or timezone.now()
    row.save(update_fields=["revoked_at"])
    return row
