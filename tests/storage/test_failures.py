"""Which write failures a retry can cure (``StoreUnavailable``, 503 at the API) and which it would repeat (500)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PG_URL
from tests.live import free_port
from tests.storage.builders import obs
from yapdns.storage.base import BatchRef, StoreUnavailable
from yapdns.storage.postgres import store as pg
from yapdns.storage.sqlite import store as lite


def test_sqlite_a_locked_file_is_transient_a_constraint_is_not(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as locked:
        other.execute("INSERT INTO t VALUES (1)")
    holder.execute("INSERT INTO t VALUES (1)")
    holder.execute("COMMIT")
    with pytest.raises(sqlite3.IntegrityError) as duplicate:
        other.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError) as missing:
        other.execute("INSERT INTO nowhere VALUES (1)")
    assert lite.transient(locked.value)
    assert not lite.transient(duplicate.value) and not lite.transient(missing.value)


@pytest.mark.postgres
def test_postgres_an_unreachable_server_is_transient_a_value_it_cannot_hold_is_not() -> None:
    with pytest.raises(psycopg.OperationalError) as unreachable:
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/test", connect_timeout=2)
    with psycopg.connect(PG_URL) as conn, pytest.raises(psycopg.Error) as too_big:
        conn.execute("SELECT %s::bigint + %s::bigint", (2**62, 2**62))
    with psycopg.connect(PG_URL) as conn, pytest.raises(psycopg.Error) as limit:
        conn.execute("CREATE TEMP TABLE t (v text PRIMARY KEY)")
        conn.execute("INSERT INTO t SELECT string_agg(md5(i::text), '') FROM generate_series(1, 200) i")
    assert pg.transient(unreachable.value)
    assert not pg.transient(too_big.value) and not pg.transient(limit.value)  # 22003 and 54000


@pytest.mark.postgres
def test_postgres_store_down_is_store_unavailable() -> None:
    store = pg.PostgresStore(f"postgresql://postgres@127.0.0.1:{free_port()}/test?connect_timeout=2", pool_size=1)
    try:
        with pytest.raises(StoreUnavailable):
            store.write([obs("a.example", "A", "192.0.2.1")], BatchRef("s", "down"))
    finally:
        store.close()
