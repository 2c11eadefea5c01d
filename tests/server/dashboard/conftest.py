"""Dashboard fixtures: a store holding the test investigation, and logged-in clients per role."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.test import Client

from tests.server.conftest import make_user
from tests.server.dashboard import dataset
from tests.server.dashboard.live import DashboardServer, launch
from yapdns.core.batch import decode_ndjson, encode_ndjson
from yapdns.ingest import IngestService
from yapdns.server.dashboard.checks import missing_assets
from yapdns.server.sensors.models import Sensor
from yapdns.server.sensors.services import create_sensor, record_ingest
from yapdns.storage.base import Store

NOW = int(time.time())


def ingest(store: Store, sensor: str, observations: list[object]) -> None:
    """Through the wire format, the sensor registry and the ingest service, as the HTTP API does."""
    batch = decode_ndjson(encode_ndjson(observations), batch_id=f"{sensor}-{len(observations)}")  # type: ignore[arg-type]
    assert not batch.rejects, batch.rejects
    row = Sensor.objects.filter(name=sensor).first() or create_sensor(sensor)[0]
    result = IngestService(store).submit(sensor, batch)
    record_ingest(row.pk, result.accepted, result.rejected, result.replayed)


@pytest.fixture
def loaded(store: Store) -> Store:
    ingest(store, "edge", dataset.edge_observations(NOW))  # type: ignore[arg-type]
    ingest(store, "sandbox", dataset.sandbox_observations(NOW))  # type: ignore[arg-type]
    return store


def _client(username: str, role: str) -> Client:
    client = Client()
    client.force_login(make_user(username, role))
    return client


@pytest.fixture
def analyst_client(db: None) -> Client:
    return _client("ana", "analyst")


@pytest.fixture
def reader_client(db: None) -> Client:
    return _client("rita", "read-only")


@pytest.fixture
def admin_client(db: None) -> Client:
    return _client("ada", "admin")


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    """One ``yapdns serve`` with the dataset, shared by every browser test module."""
    assert not missing_assets(), "run scripts/build-dashboard-assets.sh first"
    server = launch(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()
