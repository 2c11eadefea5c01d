"""Agent test fixtures: one real server for every test that needs one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agent.live import LiveServer

SENSOR = "agent-tests"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """A `yapdns serve` with one sensor; each test keeps its data apart under a sub-sensor of its own."""
    live = LiveServer(tmp_path_factory.mktemp("server")).start()
    try:
        yield live, live.sensor_token(SENSOR)
    finally:
        live.stop()
