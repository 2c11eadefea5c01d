"""Retention on the ClickHouse store (18.16 and chDB): ``prune(policy)`` deletes a record whole when its last
sighting is older, never the older partial states of a record that is still live."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.storage.builders import by_ip, by_name, obs
from tests.storage.conftest import clickhouse_url, drop_clickhouse_database
from yapdns.storage.clickhouse.schema import migrations
from yapdns.storage.clickhouse.store import ClickHouseStore
from yapdns.storage.prune import RetentionPolicy

pytestmark = pytest.mark.clickhouse
T0 = 1_700_000_000


@pytest.fixture(params=["clickhouse", "chdb"])
def store(request: pytest.FixtureRequest) -> Iterator[ClickHouseStore]:
    url = clickhouse_url(request, request.param, f"prune_{uuid.uuid4().hex[:10]}")
    opened = ClickHouseStore(url)
    opened.migrate()
    yield opened
    opened.close()
    drop_clickhouse_database(url)


def test_prune_deletes_expired_records_whole_and_keeps_live_ones_intact(store: ClickHouseStore) -> None:
    store.write([
        obs("old.ret.example", "A", "192.0.2.1", first=T0, last=T0 + 10, count=2),
        obs("txt.ret.example", "TXT", '"old"', first=T0, last=T0 + 10),  # its name and type go whole
        obs("live.ret.example", "TXT", '"old"', first=T0, last=T0 + 10),  # beside a live TXT record
        obs("live.ret.example", "A", "192.0.2.2", first=T0, last=T0 + 10, count=3, sensor="s1"),
        obs("gone.ret.example", "A", rcode="NXDOMAIN", first=T0, last=T0 + 10),
    ])  # fmt: skip
    store.write([
        obs("old.ret.example", "A", "192.0.2.1", first=T0 + 5, last=T0 + 20),  # still expired
        obs("live.ret.example", "A", "192.0.2.2", first=T0 + 500, last=T0 + 900, sensor="s2"),
        obs("live.ret.example", "TXT", '"new"', first=T0 + 500, last=T0 + 900),
    ])  # fmt: skip
    assert store.prune(RetentionPolicy(T0 + 100, T0 + 100)).records == 3
    assert store.records(by_name("old.ret.example")).rows == []
    assert store.records(by_ip("192.0.2.1")).rows == []
    assert store.negatives(by_name("gone.ret.example")).rows == []
    (live,) = [r for r in store.records(by_name("live.ret.example")).rows if r.rrtype == "A"]
    assert (live.time_first, live.time_last, live.count) == (T0, T0 + 900, 4)  # its old states are kept
    assert [p.count for p in store.provenance("live.ret.example", "A", "192.0.2.2")] == [3, 1]
    assert [r.rrname for r in store.records(by_ip("192.0.2.2")).rows] == ["live.ret.example"]
    assert store.stats().records == 2
    assert store.prune(RetentionPolicy(T0 + 100, T0 + 100)).records == 0
    assert [d.rrname for d in store.discoveries(0).rows] == ["live.ret.example"]
    end = store.discoveries(0).scanned_to
    store.write([obs("old.ret.example", "A", "192.0.2.1", first=T0 + 2000), obs("txt.ret.example", "TXT", '"x"',
                 first=T0 + 2000), obs("live.ret.example", "TXT", '"old"', first=T0 + 2000)])  # fmt: skip
    again = sorted(d.rrname for d in store.discoveries(end).rows)
    assert again == ["old.ret.example", "txt.ret.example"]  # pruned whole, then seen: new again


def test_a_pruned_cname_target_seen_again_is_new_again(store: ClickHouseStore) -> None:
    store.write([obs("cn.ret.example", "CNAME", "a.target.example", first=T0, last=T0 + 10),
                 obs("cn.ret.example", "CNAME", "b.target.example", first=T0 + 500, last=T0 + 900)])
    assert store.prune(RetentionPolicy(T0 + 100, T0 + 100)).records == 1
    names, end = store.readdressed(0)
    assert names == ["cn.ret.example"]  # its live target's own sequence row is kept
    store.write([obs("cn.ret.example", "CNAME", "b.target.example", first=T0 + 1000)])
    assert store.readdressed(end)[0] == []
    store.write([obs("cn.ret.example", "CNAME", "a.target.example", first=T0 + 2000)])
    assert store.readdressed(end)[0] == ["cn.ret.example"]


def test_readiness_names_pending_migrations(request: pytest.FixtureRequest) -> None:
    url = clickhouse_url(request, "clickhouse", f"ready_{uuid.uuid4().hex[:10]}")
    store = ClickHouseStore(url)
    try:
        assert store.pending_migrations() == [name for _, name, _ in migrations()]
        assert "0001_initial" in store.readiness()[0]
        store.migrate()
        assert (store.pending_migrations(), store.readiness()) == ([], [])
    finally:
        store.close()
        drop_clickhouse_database(url)
