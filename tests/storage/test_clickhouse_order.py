"""The storage-order guarantee on ClickHouse (18.16 and chDB; ``storage/clickhouse/order.py``): one writing
process, many callers, a reader resuming from its cursor while they write sees every name once; with several
writing processes a write numbered earlier can land behind a reader's cursor, and ``seq_settle`` holds readers
back from the newest numbers."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from tests.storage.builders import obs
from tests.storage.conftest import clickhouse_url, drop_clickhouse_database
from yapdns.storage.base import BatchRef
from yapdns.storage.clickhouse import sequence
from yapdns.storage.clickhouse.store import ClickHouseStore

pytestmark = pytest.mark.clickhouse
CALLERS, BATCHES, NAMES = 3, 6, 15


@pytest.fixture(params=["clickhouse", "chdb"])
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    found = clickhouse_url(request, request.param, f"order_{uuid.uuid4().hex[:10]}")
    ClickHouseStore(found).migrate()
    yield found
    drop_clickhouse_database(found)


def _write(store: ClickHouseStore, caller: int) -> None:
    for b in range(BATCHES):
        names = [obs(f"n{n}.b{b}.c{caller}.example", "A", f"192.0.2.{n}") for n in range(NAMES)]
        repeat = [obs(f"n0.b0.c{caller}.example", "A", "192.0.2.0")]  # a known record again: never new
        store.write(names + repeat, BatchRef(f"c{caller}", str(b)))


def test_a_reader_resuming_while_one_process_writes_sees_each_name_once(url: str) -> None:
    store = ClickHouseStore(url)
    callers = [threading.Thread(target=_write, args=(store, c)) for c in range(CALLERS)]
    for thread in callers:
        thread.start()
    seen: list[str] = []
    cursor = 0
    while any(t.is_alive() for t in callers) or store.discoveries(cursor, 1).scanned_to != cursor:
        page = store.discoveries(cursor, scan=11)
        seen += [d.rrname for d in page.rows]
        assert page.scanned_to >= cursor
        cursor = page.scanned_to
    logged = store._first_rows(f"SELECT count() FROM {store.db}.seq_log WHERE rrtype != 0")
    store.close()
    assert len(seen) == len(set(seen)) == CALLERS * BATCHES * NAMES
    assert logged == [(CALLERS * BATCHES * NAMES,)]  # a key the process numbered before is not logged again


def test_several_writing_processes_and_the_settle_horizon(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    early, late = ClickHouseStore(url), ClickHouseStore(url)  # two writers, as two processes
    early.write([obs("first.example", "A", "192.0.2.1")])
    late.write([obs("late.example", "A", "192.0.2.2")])
    cursor = early.discoveries(0).scanned_to
    behind = SimpleNamespace(time=lambda: time.time() - 3600)  # early's host clock an hour behind
    monkeypatch.setattr(sequence, "time", behind)
    early.write([obs("early.example", "A", "192.0.2.3")])  # numbered after first.example, before late.example
    assert early.discoveries(cursor).rows == []  # the documented gap: it landed behind the cursor
    assert [d.rrname for d in early.discoveries(0).rows] == ["first.example", "early.example", "late.example"]
    held = ClickHouseStore(f"{url}{'&' if '?' in url else '?'}seq_settle=7200")
    assert (held.discoveries(0).rows, held.discoveries(0).scanned_to) == ([], 0)  # nothing two hours old yet
    for store in (early, late, held):
        store.close()
