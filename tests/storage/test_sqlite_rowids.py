"""The SQLite writer's row-id cache: hot records are updated by id, and a stale id never loses a count.

``rr`` and ``rrset`` rows are never deleted by the store, so a cached id can
only go stale if something outside the store removes rows. Then the group
must roll back and be applied again through the upsert, not silently skip
the update.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.storage.builders import T0, by_name, obs
from yapdns.storage.base import BatchRef
from yapdns.storage.sqlite.store import SqliteStore


def test_rows_deleted_behind_the_writer_are_written_again(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3", cache_mb=16)
    store.migrate()
    try:
        batch = [obs("a.ids.example", "A", "192.0.2.1"), obs("b.ids.example", "A", "192.0.2.2")]
        store.write(batch, BatchRef("s1", "one", 2, 0))
        with sqlite3.connect(tmp_path / "s.sqlite3") as raw:  # an outside hand removes a cached row
            raw.execute("DELETE FROM rr WHERE rrname = 'a.ids.example'")
            raw.execute("DELETE FROM rrset WHERE rrname = 'a.ids.example'")
        later = [obs("a.ids.example", "A", "192.0.2.1", first=T0 + 9), obs("b.ids.example", "A", "192.0.2.2")]
        store.write(later, BatchRef("s1", "two", 2, 0))
        rows = {r.rrname: (r.count, r.time_first, r.time_last) for r in store.iter_records(by_name("*.ids.example"))}
        assert rows == {"a.ids.example": (1, T0 + 9, T0 + 9), "b.ids.example": (2, T0, T0)}
        sets = {r.rrname: r.count for r in store.iter_rrsets(by_name("*.ids.example"))}
        assert sets == {"a.ids.example": 1, "b.ids.example": 2}
        assert store.stats().observations == 4
    finally:
        store.close()


def test_a_rolled_back_group_leaves_no_ids_behind(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3", cache_mb=16)
    store.migrate()
    try:
        bad = obs("nx.ids.example", "A", rcode="NXDOMAIN")
        bad = bad.__class__(**{**{f: getattr(bad, f) for f in bad.__struct_fields__}, "time_last": 2**70})
        fresh = obs("new.ids.example", "A", "192.0.2.9", first=T0 + 5)
        with pytest.raises(Exception):  # noqa: B017 - SQLite reports the overflow its own way
            store.write([fresh, bad], BatchRef("s1", "bad", 2, 0))  # inserts the rr row, then fails
        store.write([fresh, obs("new.ids.example", "A", "192.0.2.9", first=T0 + 7)], BatchRef("s1", "ok", 2, 0))
        (row,) = store.iter_records(by_name("new.ids.example"))
        assert (row.count, row.time_first, row.time_last) == (2, T0 + 5, T0 + 7)
        assert store.stats().records == 1
    finally:
        store.close()


@pytest.mark.parametrize("limit", [0, 1, 1_000_000])
def test_the_cache_limit_bounds_what_is_kept_and_never_a_count(tmp_path: Path, limit: int) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3", cache_mb=16, rowid_cache=limit)
    store.migrate()
    try:
        batch = [obs("a.ids.example", "A", "192.0.2.1"), obs("b.ids.example", "A", "192.0.2.2")]
        for n in range(3):
            store.write(batch, BatchRef("s1", f"b{n}", 2, 0))
            kept = len(store._writer._applier._rowids)  # type: ignore[attr-defined]
            assert kept == (2 if limit >= 2 else 0)  # YAPDNS_SQLITE_ROWID_CACHE=0 keeps nothing between groups
        rows = {r.rrname: r.count for r in store.iter_records(by_name("*.ids.example"))}
        assert rows == {"a.ids.example": 3, "b.ids.example": 3}
    finally:
        store.close()
