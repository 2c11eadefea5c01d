"""Two `yapdns serve` processes on one ClickHouse record store (YAPDNS_STORE_URL; Django's database is the
shared SQLite app database): either answers for what the other wrote, a batch sent to both is applied once,
and one keeps serving when the other stops, so neither holds state the other needs."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.clickhouse_servers import ClickHouseServer
from tests.live import LiveServer
from tests.storage.builders import obs

pytestmark = pytest.mark.clickhouse


def test_two_serve_processes_share_one_clickhouse_store(tmp_path: Path, clickhouse_server: ClickHouseServer) -> None:
    env = {"YAPDNS_STORE_URL": clickhouse_server.url(f"serve_{uuid.uuid4().hex[:10]}")}
    with LiveServer(tmp_path / "data", extra_env=env, access_log=False) as first:
        second = LiveServer(tmp_path / "data", extra_env=env, access_log=False).start()
        try:
            sensor, query = first.sensor_token(), first.query_token()
            batch = [obs("www.two.example", "A", "192.0.2.7", count=3)]
            assert first.ingest(sensor, batch, batch_id="both-1")["replayed"] is False
            assert second.ingest(sensor, batch, batch_id="both-1")["replayed"] is True
            second.ingest(sensor, [obs("mail.two.example", "A", "192.0.2.8")], batch_id="second-1")
            first.stop()
            with httpx.Client(base_url=second.url, timeout=10) as http:
                reply = http.get(
                    "/api/v1/records", params={"q": "*.two.example"}, headers={"Authorization": f"Bearer {query}"}
                )
            assert sorted((r["rrname"], r["count"]) for r in reply.json()["records"]) == [
                ("mail.two.example", 1),
                ("www.two.example", 3),
            ]
        finally:
            second.stop()
