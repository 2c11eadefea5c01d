"""sensors.services: sensors and ingest tokens as the CLI, the API and the dashboard create and revoke them."""

from __future__ import annotations

import pytest

from yapdns.core.errors import ConfigurationError
from yapdns.server.security import authenticate_token
from yapdns.server.sensors.models import Sensor
from yapdns.server.sensors.services import (
    add_sensor_token,
    create_sensor,
    record_ingest,
    revoke_sensor,
    revoke_sensor_token,
)
from yapdns.server.tokens import digest


@pytest.mark.django_db
def test_a_sensor_gets_working_ingest_tokens_until_it_is_revoked() -> None:
    sensor, first = create_sensor("edge-1", "the edge")
    second = add_sensor_token(sensor)
    assert first.startswith("ys_") and second.startswith("ys_") and first != second
    for token in (first, second):
        principal = authenticate_token(token)
        assert principal is not None and principal.kind == "sensor" and principal.sensor == sensor
    revoke_sensor_token(sensor, sensor.tokens.get(digest=digest(second)).pk)
    assert authenticate_token(second) is None and authenticate_token(first) is not None
    revoke_sensor("edge-1")
    assert authenticate_token(first) is None and not Sensor.objects.get(name="edge-1").active


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 65, "ümlaut"])
def test_sensor_names_are_validated(name: str) -> None:
    with pytest.raises(ConfigurationError):
        create_sensor(name)
    assert not Sensor.objects.exists()


@pytest.mark.django_db
def test_unknown_sensors_and_tokens_are_configuration_errors() -> None:
    sensor, _ = create_sensor("s1")
    with pytest.raises(ConfigurationError):
        revoke_sensor("s2")
    with pytest.raises(ConfigurationError):
        revoke_sensor_token(sensor, 10_000)
    with pytest.raises(ConfigurationError):
        create_sensor("s1")


@pytest.mark.django_db
def test_ingest_counters_skip_what_a_replay_did_not_apply() -> None:
    sensor, _ = create_sensor("s1")
    record_ingest(sensor.pk, accepted=5, rejected=1, replayed=False)
    record_ingest(sensor.pk, accepted=5, rejected=1, replayed=True)
    sensor.refresh_from_db()
    assert (sensor.batches_total, sensor.replayed_total, sensor.accepted_total, sensor.rejected_total) == (2, 1, 5, 1)
    assert sensor.last_seen_at is not None
