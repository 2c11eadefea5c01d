"""Whole-table aggregates on ClickHouse stay within a server's per-query memory limit (issue 15).

A server whose profile allows 160 MB a query holds 1.3 million records: grouping their keys in memory needs
more than that (each call below fails on 18.16 without spilling), so the store's reads only answer because
their GROUP BYs spill to disk past its ``max_bytes_before_external_group_by`` bound; the results stay exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.clickhouse_servers import ClickHouseServer, server_binary
from tests.storage.builders import T0, obs
from yapdns.storage.clickhouse.schema import NONE_MAX, NONE_MIN, STATE_COLUMNS, Kind
from yapdns.storage.clickhouse.store import ClickHouseStore

pytestmark = pytest.mark.clickhouse

RECORDS = 1_300_000
LIMIT = 160_000_000  # bytes a query may use on this server
SPILL = 32_000_000  # the store's bound, a fifth of the limit: a query of two GROUP BYs may hold two


def _bulk_records(server: ClickHouseServer, db: str, n: int) -> None:
    """``n`` distinct A records appended through the entry table's own input and view, server-side so the
    test stays fast (this INSERT alone needs more than the profile's limit, so it lifts it)."""
    from clickhouse_driver import Client

    states = {"tf": T0, "tl": T0 + 60, "nhi": 0, "nlo": 1, "tmin": 300, "tmax": 300, "ztf": NONE_MIN}
    states |= {"ztl": NONE_MAX, "ins": T0}
    values = ", ".join(str(states[c]) for c in STATE_COLUMNS)
    client = Client("127.0.0.1", port=server.tcp_port)
    try:
        client.execute(
            f"INSERT INTO {db}.entry_in (kind, rrname_rev, rrtype, k1, k2, prov, {', '.join(STATE_COLUMNS)}) "
            f"SELECT {int(Kind.RR)}, concat('com.example.bulk', toString(number), '.'), 1, "
            f"IPv4NumToString(toUInt32(number)), '', 1, {values} FROM numbers({n})",
            settings={"max_memory_usage": 0},
        )
    finally:
        client.disconnect()


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseStore]:
    if server_binary() is None:
        pytest.skip("clickhouse-server is not installed: run scripts/test-deps")
    server = ClickHouseServer(tmp_path_factory.mktemp("ch-small"), max_memory_usage=LIMIT)
    server.start()
    store = ClickHouseStore(server.url("bigstats") + f"?max_bytes_before_external_group_by={SPILL}")
    try:
        store.migrate()
        store.write([obs("a.example.com", "AAAA", "2001:db8::1", sensor="s1")])
        _bulk_records(server, "bigstats", RECORDS)
        yield store
    finally:
        store.close()
        server.stop()


def _stats(store: ClickHouseStore) -> Any:
    stats = store.stats()
    return stats.records, stats.records_by_type


CALLS: dict[str, tuple[Callable[[ClickHouseStore], Any], Any]] = {
    "stats": (_stats, (RECORDS + 1, {"A": RECORDS, "AAAA": 1})),
    "record_totals": (lambda s: s.record_totals()[:2], (RECORDS + 1, RECORDS + 1)),
    "new_names": (lambda s: len(s.new_names(T0 - 10, limit=5)), 5),
    "scan_top_names": (lambda s: len(s.scan_top_names(limit=5)), 5),
    "ingest_history": (lambda s: [b.new_records for b in s.ingest_history(0)], [1]),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_whole_table_aggregate_over_the_query_memory_limit(big_store: ClickHouseStore, call: str) -> None:
    run, expected = CALLS[call]
    assert run(big_store) == expected
