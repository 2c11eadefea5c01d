"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clickhouse_servers import ClickHouseServer, server_binary, start_cluster

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "fixtures"
PG_URL = os.environ.get("YAPDNS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches ./data: each gets its own YAPDNS_DATA_DIR."""
    monkeypatch.setenv("YAPDNS_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def clickhouse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseServer]:
    """One Debian ``clickhouse-server`` (18.16) process for the session, on loopback, with its own directories;
    tests take a fresh database each. Skipped only when the binary is not installed (scripts/test-deps)."""
    if server_binary() is None:
        pytest.skip("clickhouse-server is not installed: run scripts/test-deps")
    server = ClickHouseServer(tmp_path_factory.mktemp("clickhouse"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def clickhouse_shards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ClickHouseServer]]:
    """Two ``clickhouse-server`` processes, the two shards of cluster ``two_shards`` (no replicas)."""
    if server_binary() is None:
        pytest.skip("clickhouse-server is not installed: run scripts/test-deps")
    nodes = start_cluster(tmp_path_factory.mktemp("clickhouse-shards"), "two_shards", shards=2, replicas=1)
    yield [shard[0] for shard in nodes]
    for shard in nodes:
        shard[0].stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium (Debian's) per test process: Playwright's sync API allows one instance at a time, so
    every browser test module shares this one."""
    from tests.server.dashboard import browser

    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        instance = browser.launch(pw)
        yield instance
        instance.close()
