"""Two replicas of one shard (ReplicatedMergeTree, Debian's ZooKeeper): one replica is SIGKILLed during ingest;
writes go on through the other, every acknowledged batch is there exactly once, and the killed replica catches
up when restarted. Run alone with ``pytest -m cluster``."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clickhouse_servers import ClickHouseServer, ZooKeeper, server_binary, start_cluster, zookeeper_available
from tests.storage.builders import by_name, obs
from yapdns.storage.base import BatchRef, StoreUnavailable
from yapdns.storage.clickhouse.client import NativeConnection
from yapdns.storage.clickhouse.store import ClickHouseStore

pytestmark = [pytest.mark.clickhouse, pytest.mark.cluster]
BATCHES = 24
PER_BATCH = 20


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ClickHouseServer]]:
    if server_binary() is None or not zookeeper_available():
        pytest.skip("clickhouse-server or zookeeper is not installed: run scripts/test-deps")
    root: Path = tmp_path_factory.mktemp("ch-replicas")
    zookeeper = ZooKeeper(root)
    zookeeper.start()
    nodes = start_cluster(root, "one_shard", shards=1, replicas=2, zookeeper=zookeeper)
    yield nodes[0]
    for node in nodes[0]:
        node.stop()
    zookeeper.stop()


def _batch(b: int) -> list:  # type: ignore[type-arg]
    return [obs(f"h{i}.b{b}.rep.example", "A", f"10.0.{b}.{i}") for i in range(PER_BATCH)] + [
        obs("shared.rep.example", "A", "192.0.2.1", count=2)
    ]


def _local_batches(server: ClickHouseServer, database: str) -> int:
    conn = NativeConnection(server.url(database))
    try:
        ((n,),) = conn.rows(f"SELECT uniqExact(rrname_rev, k1) FROM {database}.entry_local WHERE kind = 8")
        return int(n)
    finally:
        conn.close()


def test_a_replica_killed_during_ingest_loses_nothing_and_catches_up(replicas: list[ClickHouseServer]) -> None:
    first, second = replicas
    database = f"rep_{uuid.uuid4().hex[:10]}"
    url = f"{first.url(database)}?cluster=one_shard&claim_lease=1"
    store = ClickHouseStore(url)
    store.migrate()
    acked: list[int] = []
    failures: list[int] = []

    def ingest() -> None:
        for b in range(BATCHES):
            for _attempt in range(40):  # a sensor retries until the store answers
                try:
                    store.write(_batch(b), BatchRef("s1", f"rep-{b}", PER_BATCH + 1, 0))
                    acked.append(b)
                    break
                except StoreUnavailable:
                    failures.append(b)
                    time.sleep(0.25)

    sender = threading.Thread(target=ingest)
    sender.start()
    while len(acked) < BATCHES // 3:
        time.sleep(0.01)
    first.kill()  # the replica the shard's connection uses first
    sender.join()
    try:
        assert acked == list(range(BATCHES))  # writes went on through the other replica
        assert _local_batches(second, database) == BATCHES  # acknowledged: on the surviving replica too
        shared = store.records(by_name("shared.rep.example")).rows
        assert [r.count for r in shared] == [2 * BATCHES]  # every acknowledged batch, once
        assert len(store.records(by_name("*.rep.example", limit=1000)).rows) == BATCHES * PER_BATCH + 1
        found = [d.rrname for d in store.discoveries(0, scan=100_000).rows]  # numbered once, through the failover
        assert len(found) == len(set(found)) == BATCHES * PER_BATCH + 1
        first.start()
        deadline = time.monotonic() + 60
        while _local_batches(first, database) < BATCHES and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _local_batches(first, database) == BATCHES  # the restarted replica caught up
        assert [r.count for r in store.records(by_name("shared.rep.example")).rows] == [2 * BATCHES]
    finally:
        store.close()
