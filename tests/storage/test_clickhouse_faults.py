"""The ClickHouse store's exactly-once write under crashes: the server is SIGKILLed between every two steps of
a write (and after the last, before the answer), restarted on its data, and the batch is replayed as a
sensor would replay it; every record, address lookup and counter then shows the batch applied once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.clickhouse_servers import ClickHouseServer, server_binary
from tests.storage.builders import by_ip, by_name, obs
from yapdns.storage.base import BatchRef, StoreUnavailable, WriteOutcome
from yapdns.storage.clickhouse.client import Connection
from yapdns.storage.clickhouse.store import ClickHouseStore

pytestmark = pytest.mark.clickhouse
COMMIT = 5  # commit marker lookup, claim insert, claim read, rdx insert, entry insert (the commit),
STEPS = 8  # then the sequence: prune epoch read, last number read, rows inserted (sequence.py)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseServer]:
    """A server of this module's own: the tests kill it."""
    if server_binary() is None:
        pytest.skip("clickhouse-server is not installed: run scripts/test-deps")
    srv = ClickHouseServer(tmp_path_factory.mktemp("ch-faults"))
    srv.start()
    yield srv
    srv.stop()


class KillBefore:
    """A connection that SIGKILLs the server before its ``step``-th call (1-based) of the write."""

    def __init__(self, inner: Connection, server: ClickHouseServer, step: int) -> None:
        self.inner, self.server, self.step, self.calls = inner, server, step, 0
        self.database = inner.database

    def _tick(self) -> None:
        self.calls += 1
        if self.calls == self.step:
            self.server.kill()

    def rows(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        self._tick()
        return self.inner.rows(sql, params)

    def insert(self, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]]) -> None:
        self._tick()
        self.inner.insert(table, columns, data)

    def command(self, sql: str, params: Any = None) -> None:
        self.inner.command(sql, params)

    def close(self) -> None:
        self.inner.close()


BATCH = [obs(f"h{i}.crash.example", "A", f"198.51.100.{i}", count=3) for i in range(1, 6)]
REF = BatchRef("s1", "crash-1", accepted=5, rejected=0)


def _replay(url: str) -> WriteOutcome:
    """What a sensor does after a failed send: a new connection (a restarted process), retried until answered."""
    for _ in range(20):
        store = ClickHouseStore(url)
        try:
            return store.write(BATCH, REF)
        except StoreUnavailable:
            time.sleep(0.5)
        finally:
            store.close()
    raise AssertionError("the replay never succeeded")


@pytest.mark.parametrize("step", range(1, STEPS + 2))
def test_a_batch_replayed_after_a_crash_at_any_step_is_applied_once(server: ClickHouseServer, step: int) -> None:
    url = server.url(f"crash_{uuid.uuid4().hex[:10]}") + "?claim_lease=1"
    store = ClickHouseStore(url)
    store.migrate()
    shards = store._topo.shards
    shards[0] = KillBefore(shards[0], server, step)
    try:
        if step <= STEPS:
            with pytest.raises(StoreUnavailable):
                store.write(BATCH, REF)
        else:  # every step done: the crash comes before the caller hears of it
            store.write(BATCH, REF)
            server.kill()
    finally:
        store.close()
    server.start()
    outcome = _replay(url)
    assert outcome == WriteOutcome(step > COMMIT, 5, 0)  # the crashed write applied it iff its commit insert ran
    check = ClickHouseStore(url)
    try:
        rows = check.records(by_name("*.crash.example")).rows
        assert sorted((r.rrname, r.count) for r in rows) == [(f"h{i}.crash.example", 3) for i in range(1, 6)]
        assert [r.rrname for r in check.records(by_ip("198.51.100.0/24")).rows] == [
            f"h{i}.crash.example" for i in range(1, 6)
        ]
        stats = check.stats()
        assert (stats.records, stats.observations, stats.batches) == (5, 15, 1)
        assert check.write(BATCH, REF).replayed
        found = check.discoveries(0).rows  # numbered once, by the crashed write or by the replay
        assert sorted(d.rrname for d in found) == [f"h{i}.crash.example" for i in range(1, 6)]
        assert sorted(check.address_feed(None, 100).addresses) == [f"198.51.100.{i}" for i in range(1, 6)]
        assert check._first_rows(f"SELECT count() FROM {check.db}.seq_log WHERE rrtype != 0") == [(5,)]
    finally:
        check.close()


def test_the_fault_server_keeps_its_data_across_kills(server: ClickHouseServer, tmp_path: Path) -> None:
    url = server.url(f"keep_{uuid.uuid4().hex[:10]}")
    store = ClickHouseStore(url)
    store.migrate()
    store.write(BATCH, REF)
    store.close()
    server.kill()
    server.start()
    again = ClickHouseStore(url)
    try:
        assert again.migrate() == []
        assert len(again.records(by_name("*.crash.example")).rows) == 5
    finally:
        again.close()
