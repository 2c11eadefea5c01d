"""The stable end of the ``rr`` row ids on PostgreSQL, so that reads in storage order never skip a record.

Several writing processes take ``rr`` ids from one sequence and may commit
out of order: id 101 can be visible while id 100 is still in flight. A reader
whose cursor moved past 101 would never see 100 (a name missing from the NOD
stream). ``StableEnd.get`` answers an id at or below which every row is
committed or never will be, and the reads in storage order (``discoveries``,
``readdressed``) stop there:

1. read the sequence's last value ``S`` (every id up to ``S`` is handed out);
2. list the transactions that hold a write lock on this store's ``rr``
   table (``pg_locks``: ``RowExclusiveLock``, granted, by virtual
   transaction id). A transaction that took an id up to ``S`` locked ``rr``
   before it took the id (the upsert locks its table before it makes rows)
   and keeps the lock until it ends, so it is in that list unless it ended;
3. wait until none of those transactions holds the lock any more: they all
   committed (visible to every later read) or rolled back (their ids unused).

Only writers of this store's ``rr`` are waited for (not other databases'
or schemas' transactions), and only those running at step 2, so a steady
stream of new writes never holds a reader back: the wait is as long as the
longest write transaction in flight (a group write, well under a second).
An answer is kept: a reader still below it needs no new wait; one that
reached it measures again. If the writers in flight outlast ``WAIT``, the
last answer stands (the reader sees nothing new this time, and loses
nothing). This relies on the identity sequence's default ``CACHE 1`` (no
session holds ids back). SQLite needs none of this: its one writer thread
commits ids in order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psycopg

WAIT = 5.0  # seconds to wait for the writes in flight before keeping the last answer
POLL = 0.005
LAST_ID = "SELECT pg_sequence_last_value(pg_get_serial_sequence('rr', 'id')::regclass)"
_RR_WRITERS = (
    "FROM pg_locks WHERE locktype = 'relation' AND mode = 'RowExclusiveLock' AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND relation = 'rr'::regclass"
)
WRITERS = f"SELECT coalesce(array_agg(virtualtransaction), '{{}}') {_RR_WRITERS}"
STILL = f"SELECT EXISTS (SELECT 1 {_RR_WRITERS} AND virtualtransaction = ANY(%s))"


class StableEnd:
    """The largest ``rr`` id below which nothing more can appear, per store (thread-safe)."""

    def __init__(
        self, connection: Callable[[], AbstractContextManager[psycopg.Connection[Any]]], wait: float = WAIT
    ) -> None:
        self._connection = connection
        self.wait = wait
        self._stable = 0
        self._lock = threading.Lock()

    def get(self, after: int) -> int:
        """A stable id; measured anew only when ``after`` (the reader's cursor) has reached the last answer."""
        with self._lock:
            if after < self._stable:
                return self._stable
            with self._connection() as conn:
                found = self._measure(conn)
            if found is not None:
                self._stable = max(self._stable, found)
            return self._stable

    def _measure(self, conn: psycopg.Connection[Any]) -> int | None:
        last = _one(conn, LAST_ID)
        writers = _one(conn, WRITERS)
        deadline = time.monotonic() + self.wait
        while writers and _one(conn, STILL, (writers,)):
            if time.monotonic() > deadline:
                return None
            time.sleep(POLL)
        return int(last or 0)


def _one(conn: psycopg.Connection[Any], text: str, params: tuple[object, ...] = ()) -> Any:
    row = conn.execute(text.encode(), params).fetchone()
    return row[0] if row else None
