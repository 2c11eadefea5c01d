"""Sensors and their ingest tokens (stored hashed), with per-sensor ingest health counters."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from yapdns.server.hashed_token import HashedToken

SENSOR_NAME = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    "A sensor name is 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
)


class Sensor(models.Model):
    """A source of observations; everything it ingests is attributed to its name."""

    name = models.CharField(max_length=64, unique=True, validators=[SENSOR_NAME])
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    batches_total = models.BigIntegerField(default=0)
    replayed_total = models.BigIntegerField(default=0)
    accepted_total = models.BigIntegerField(default=0)
    rejected_total = models.BigIntegerField(default=0)
    refused_total = models.BigIntegerField(default=0)  # batches refused whole (4xx): nothing applied
    failed_total = models.BigIntegerField(default=0)  # batches the server failed to apply (500)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class SensorToken(HashedToken):
    """An ingest-only bearer token of one sensor."""

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.sensor.name})"
