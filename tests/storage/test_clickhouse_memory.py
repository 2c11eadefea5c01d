"""Whole-table aggregates on ClickHouse stay within a server's per-query memory limit (issue 15).

An 18.16 server whose profile allows 160 MB a query (chDB: a session allowing 120 MB) holds 1.3 million
records: grouping their keys in memory needs more than that (each call below fails without spilling), so the
store's reads only answer because their GROUP BYs spill to disk past its ``max_bytes_before_external_group_by``
bound; the results stay exact.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.clickhouse_servers import ClickHouseServer, server_binary
from tests.storage.builders import T0, obs
from tests.storage.conftest import clickhouse_url, drop_clickhouse_database
from yapdns.storage.clickhouse.client import connect
from yapdns.storage.clickhouse.schema import NONE_MAX, NONE_MIN, STATE_COLUMNS, Kind
from yapdns.storage.clickhouse.store import ClickHouseStore

pytestmark = pytest.mark.clickhouse

RECORDS = 1_300_000
# Bytes a query may use (the 18.16 server's profile; chDB's session), and the store's spill bound: a fifth of
# the limit, as a query of two GROUP BYs may hold two such states, and each spilled file costs read buffers.
LIMITS = {"clickhouse": (160_000_000, 32_000_000), "chdb": (120_000_000, 24_000_000)}
_INSERT = (
    "INSERT INTO {db}.entry_in (kind, rrname_rev, rrtype, k1, k2, prov, {states}) "
    "SELECT {kind}, concat('com.example.bulk', toString(number), '.'), 1, IPv4NumToString(toUInt32(number)), "
    "'', 1, {values} FROM numbers({n})"
)


def _bulk_insert(db: str, n: int) -> str:
    """An INSERT of ``n`` distinct A records through the entry table's own input and view, server-side so the
    test stays fast."""
    states = {"tf": T0, "tl": T0 + 60, "nhi": 0, "nlo": 1, "tmin": 300, "tmax": 300, "ztf": NONE_MIN}
    states |= {"ztl": NONE_MAX, "ins": T0}
    values = ", ".join(str(states[c]) for c in STATE_COLUMNS)
    return _INSERT.format(db=db, states=", ".join(STATE_COLUMNS), kind=int(Kind.RR), values=values, n=n)


def _on_server(request: pytest.FixtureRequest, db: str) -> Iterator[str]:
    """A store URL on an 18.16 server of its own whose profile has the limit, holding the records (their INSERT
    alone needs more than the limit, so it lifts it)."""
    if server_binary() is None:
        pytest.skip("clickhouse-server is not installed: run scripts/test-deps")
    from clickhouse_driver import Client

    limit, spill = LIMITS["clickhouse"]
    tmp = request.getfixturevalue("tmp_path_factory").mktemp("ch-small")
    server = ClickHouseServer(tmp, max_memory_usage=limit)
    server.start()
    try:
        ClickHouseStore(server.url(db)).migrate()
        client = Client("127.0.0.1", port=server.tcp_port)
        client.execute(_bulk_insert(db, RECORDS), settings={"max_memory_usage": 0})
        client.disconnect()
        yield f"{server.url(db)}?max_bytes_before_external_group_by={spill}"
    finally:
        server.stop()


def _on_chdb(request: pytest.FixtureRequest, db: str) -> Iterator[str]:
    """A store URL on the process's chDB session, the limit set on the session once the records are in (and
    lifted again afterwards: other tests share the session)."""
    limit, spill = LIMITS["chdb"]
    url = f"{clickhouse_url(request, 'chdb', db)}&max_bytes_before_external_group_by={spill}"
    ClickHouseStore(url).migrate()
    conn = connect(url)
    conn.command(_bulk_insert(db, RECORDS))
    conn.command(f"SET max_memory_usage = {limit}")
    try:
        yield url
    finally:
        conn.command("SET max_memory_usage = 0")
        drop_clickhouse_database(url)


@pytest.fixture(scope="module", params=sorted(LIMITS))
def big_store(request: pytest.FixtureRequest) -> Iterator[ClickHouseStore]:
    db = f"bigstats_{uuid.uuid4().hex[:8]}"
    urls = _on_chdb(request, db) if request.param == "chdb" else _on_server(request, db)
    url = next(urls)
    store = ClickHouseStore(url)
    try:
        store.write([obs("a.example.com", "AAAA", "2001:db8::1", sensor="s1")])
        yield store
    finally:
        store.close()
        urls.close()


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
