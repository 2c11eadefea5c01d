"""A late cursor page costs what the first page costs (SQLite), counted in VM steps, not seconds.

SQLite starts an index range at the first lower bound it meets on the
column and derives none from a row value; a cursor page that only said
``(ip, id) > (?, ?)`` rescanned the range from its start, so streaming a
large CIDR was quadratic. The progress handler counts virtual-machine steps,
which do not depend on the machine's load.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from tests.storage.builders import by_ip, by_name, by_target, obs
from yapdns.storage.query import RecordQuery
from yapdns.storage.sqlite.store import SqliteStore

ROWS = 6000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> SqliteStore:
    store = SqliteStore(Path(tmp_path_factory.mktemp("paging")) / "p.sqlite3", cache_mb=16)
    store.migrate()
    store.write(
        [obs(f"h{i:05d}.big.example", "A", f"10.1.{i // 256}.{i % 256}") for i in range(ROWS)]
        + [obs(f"c{i:05d}.big.example", "CNAME", "t.big.example") for i in range(ROWS)]
        + [obs(f"s{i:05d}.big.example", "A", "10.2.0.1") for i in range(ROWS)]
    )
    return store


def _steps(store: SqliteStore, query: RecordQuery) -> int:
    counter = [0]

    def tick() -> int:
        counter[0] += 1
        return 0

    conn = store._reader()
    conn.set_progress_handler(tick, 100)
    try:
        store.records(query)
    finally:
        conn.set_progress_handler(None, 0)
    return counter[0]


@pytest.mark.parametrize(
    "query",
    [
        by_ip("10.1.0.0/16", limit=200),
        by_ip("10.2.0.1", limit=200),
        by_name("*.big.example", limit=200),
        by_target("t.big.example", limit=200),
    ],
    ids=["cidr", "one-ip", "suffix", "target"],
)
def test_late_pages_cost_no_more_than_early_ones(big: SqliteStore, query: RecordQuery) -> None:
    first = _steps(big, query)
    cursor = None
    for _ in range(25):
        page = big.records(msgspec.structs.replace(query, cursor=cursor))
        cursor = page.next_cursor
    assert cursor is not None
    late = _steps(big, msgspec.structs.replace(query, cursor=cursor))
    assert late < 2 * first + 50, (first, late)
