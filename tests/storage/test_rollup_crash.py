"""The per-name rollup after a writer is killed (SIGKILL) with deltas only in memory and in the journal.

A child process writes numbered batches to a real store (SQLite file or PostgreSQL schema) with a drain interval
of an hour, so each batch's rollup deltas stay in its memory and in ``rollup_journal``; it is killed after the
n-th acknowledgement (mid-run, or idle after the last). The agent's rule then applies: every batch is sent
again, the acknowledged ones must come back as replays, and the rollup must equal the records (the oracle of
``test_rollup.py``): the killed writer's journal rows are decoded and applied once, none twice.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest

from tests.conftest import PG_URL
from tests.storage.conftest import StoreFactory, _with_schema
from tests.storage.test_rollup import check, journal_rows, sightings
from yapdns.storage import rollup
from yapdns.storage.base import BatchRef, Store

BATCHES = 8
CHILD = """
import sys, time
from tests.storage.test_rollup import sightings
from yapdns.storage.base import BatchRef
kind, where, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "sqlite":
    from yapdns.storage.sqlite.store import SqliteStore
    store = SqliteStore(where, cache_mb=16)
else:
    from yapdns.storage.postgres.store import PostgresStore
    store = PostgresStore(where, pool_size=2)
store._applier.rollup_flush_seconds = 3600
store.flush_rollup()  # the drain a new store owes at its first tick, done now: none later, whatever the timing
for i in range(n):
    store.write(sightings(i, 40), BatchRef("s", f"k{i}"))
    print(i, flush=True)
time.sleep(600)
"""


@pytest.fixture
def sql_factory(store_factory: StoreFactory, request: pytest.FixtureRequest) -> StoreFactory:
    if request.node.callspec.params["store_factory"] not in ("sqlite", "postgresql"):
        pytest.skip("the rollup journal is the SQL backends'")
    return store_factory


def _target(store: Store) -> tuple[str, str]:
    schema = getattr(store, "schema", None)
    if schema is not None:
        return "postgresql", _with_schema(PG_URL, schema)
    return "sqlite", str(store.path)  # type: ignore[attr-defined]


def _left_rows(store: Store) -> int:
    """The journal's rows, counted on a connection of its own: a store's writer drains what a crash left at its
    first tick, so counting through a store races with it."""
    schema = getattr(store, "schema", None)
    if schema is None:
        with closing(sqlite3.connect(str(store.path))) as conn:  # type: ignore[attr-defined]
            return int(conn.execute("SELECT count(*) FROM rollup_journal").fetchone()[0])
    import psycopg

    with psycopg.connect(PG_URL) as conn:
        found = conn.execute(f'SELECT count(*) FROM "{schema}".rollup_journal').fetchone()
        return int(found[0]) if found else 0


def _kill_after(kind: str, where: str, acks: int) -> None:
    """Run the child writer and SIGKILL it right after its ``acks``-th acknowledged batch."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, kind, where, str(BATCHES)], stdout=subprocess.PIPE,
                             env=env, text=True)
    try:
        assert child.stdout is not None
        for _ in range(acks):
            assert child.stdout.readline().strip(), "the child writer died"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)


@pytest.mark.parametrize("acks", [3, BATCHES])
def test_a_killed_writers_deltas_count_once(sql_factory: StoreFactory, acks: int) -> None:
    """The server restarts: the new store drains what the killed one left, the agent resends."""
    first = sql_factory()
    first.flush_rollup()  # type: ignore[attr-defined]  # its first-tick drain, now: not of the child's rows
    _kill_after(*_target(first), acks)
    assert _left_rows(first) > 0  # the killed writer's pending deltas: nowhere else
    store = sql_factory()  # opened after the crash
    for i in range(BATCHES):  # the agent sends every unacknowledged batch again (and may resend acknowledged ones)
        outcome = store.write(sightings(i, 40), BatchRef("s", f"k{i}"))
        assert outcome.replayed or i >= acks
    check(store)
    assert journal_rows(store) == 0


def test_a_live_writer_drains_what_a_killed_one_left(sql_factory: StoreFactory, monkeypatch: pytest.MonkeyPatch
                                                     ) -> None:
    """Another process that was running all along finds the orphaned rows at its next orphan check."""
    monkeypatch.setattr(rollup, "ORPHAN_CHECK_SECONDS", 3600.0)
    store = sql_factory()
    store.flush_rollup()  # type: ignore[attr-defined]  # its first-tick drain, now: not of the child's rows
    _kill_after(*_target(store), BATCHES)
    assert journal_rows(store) > 0
    monkeypatch.setattr(rollup, "ORPHAN_CHECK_SECONDS", 0.2)  # only now may the live writer look for them
    deadline = time.monotonic() + 20
    while journal_rows(store) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert journal_rows(store) == 0
    check(store)
