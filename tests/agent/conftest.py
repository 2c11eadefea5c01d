"""Agent test fixtures: one real server for every test that needs one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live import LiveServer

SENSOR = "agent-tests"


class SharedServer:
    """The session's server, its sensor token (``agent-tests``) and a query token to read totals back."""

    def __init__(self, live: LiveServer) -> None:
        self.live = live
        self.token = live.sensor_token(SENSOR)
        self.query_token = live.query_token()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedServer]:
    """A `yapdns serve`; each test keeps its data apart under a sub-sensor of its own."""
    live = LiveServer(tmp_path_factory.mktemp("server")).start()
    try:
        yield SharedServer(live)
    finally:
        live.stop()
