"""The NOD stream on PostgreSQL with several writers: ids that commit out of order leave no gap and no repeat.

Two ways: a write held open in its transaction (the real applier) while another writer commits a later id, and
two real writer processes racing while the stream is followed from its cursor."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import PG_URL, ROOT
from tests.storage.conftest import _drop_schema, _with_schema
from yapdns.core.model import Observation
from yapdns.storage.aggregate import fold_batches
from yapdns.storage.base import BatchRef, Store

pytestmark = pytest.mark.postgres


@pytest.fixture
def url() -> Iterator[str]:
    pytest.importorskip("psycopg")
    schema = f"yapdns_nod_{uuid.uuid4().hex[:12]}"
    yield _with_schema(PG_URL, schema)
    _drop_schema(schema)


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    from yapdns.storage.postgres.store import PostgresStore

    try:
        opened = PostgresStore(url)
        opened.migrate()
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield opened
    opened.close()


def obs(name: str, sensor: str) -> Observation:
    return Observation(rrname=name, rrtype="A", rdata=("192.0.2.1",), time_first=1_765_000_000,
                       time_last=1_765_000_000, sensor_id=sensor)


def follow(store: Store, cursor: int, seen: list[str]) -> int:
    """Read the stream from ``cursor`` to its current end; the new cursor."""
    while True:
        page = store.discoveries(cursor, scan=50)
        seen += [d.rrname for d in page.rows]
        if page.scanned_to == cursor:
            return cursor
        cursor = page.scanned_to


def test_a_write_in_flight_holds_the_stream_back_until_it_commits(store: Store, url: str) -> None:
    from yapdns.storage.postgres.store import PostgresApplier, PostgresStore
    from yapdns.storage.postgres.writer import _upsert_rr

    store._stable.wait = 0.3  # type: ignore[attr-defined]  # the in-flight write outlasts it: the last answer stands
    cursor = follow(store, 0, seen := [])
    other = PostgresStore(url)
    held = PostgresApplier(other._writer_connection, 3600)
    conn = held.connect()
    try:
        conn.execute("BEGIN")  # writer A's group, stopped right after its rr upsert took an id
        _upsert_rr(conn, fold_batches([[obs("early.example", "a")]], lambda keys: held._prov_ids(conn, keys)))
        store.write([obs("late.example", "b")], BatchRef("b", "1"))  # writer B: a later id, committed first
        cursor = follow(store, cursor, seen)
        assert seen == []  # without the stable end the stream would pass early.example's id here
        conn.execute("COMMIT")
    finally:
        conn.close()
        other.close()
    cursor = follow(store, cursor, seen)
    assert seen == ["early.example", "late.example"]
    store.write([obs("later.example", "b")], BatchRef("b", "2"))
    assert follow(store, cursor, seen) > cursor and seen[-1] == "later.example" and len(seen) == 3


@pytest.mark.slow
def test_two_writer_processes_and_a_follower_miss_nothing(store: Store, url: str) -> None:
    batches, size = 80, 4
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    writers = [subprocess.Popen([sys.executable, "-m", "tests.storage.nod_writer", url, p, str(batches), str(size)],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for p in ("w1", "w2")]
    seen: list[str] = []
    cursor = 0
    while any(w.poll() is None for w in writers):
        cursor = follow(store, cursor, seen)  # following while both commit
    for w in writers:
        out, err = w.communicate(timeout=60)
        assert w.returncode == 0 and out.strip() == "done", err
    follow(store, cursor, seen)
    wanted = {f"{p}-{b}-{i}.nod.example" for p in ("w1", "w2") for b in range(batches) for i in range(size)}
    assert len(seen) == len(set(seen)), "a name was announced twice"
    assert set(seen) == wanted, f"{len(wanted - set(seen))} names skipped"
