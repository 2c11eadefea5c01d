"""The stable end of the ``rr`` row ids on PostgreSQL, so that reads in storage order never skip a record.

Several writing processes take ``rr`` ids from one sequence and may commit
out of order: id 101 can be visible while id 100 is still in flight. A reader
whose cursor moved past 101 would never see 100 (a name missing from the NOD
stream). ``StableEnd.get`` answers an id at or below which every row is
committed or never will be, and the reads in storage order (``discoveries``,
``readdressed``) stop there:

1. read the sequence's last value ``S`` (every id up to ``S`` is handed out);
2. take a new transaction id ``N`` (``pg_current_xact_id()`` in its own
   tiny transaction). A transaction that took an id up to ``S`` had its xid
   before step 1 (a group write inserts its batch claims, ``prov`` rows and
   staging rows before the ``rr`` upsert takes ids), so its xid is below
   ``N``. (A snapshot's ``xmax`` would not do: it is the latest *completed*
   xid plus one, and a running transaction may be above it.);
3. wait until the oldest transaction still running is not older than ``N``
   (``pg_snapshot_xmin`` of a new snapshot ≥ ``N``): they all ended.

The wait is as long as the longest write transaction in flight at step 2 (a
group write: well under a second). Read-only transactions have no xid and
never hold it up. Each measure uses one xid (a reader measures only when it
has caught up, so at most a few a second; each write uses one too). An
answer is kept: a reader still below it needs no new wait; one that reached
it measures again. If the writers in flight outlast ``WAIT``, the last answer
stands (the reader sees nothing new this time, and loses nothing). This
relies on the identity sequence's default ``CACHE 1`` (no session holds ids
back). SQLite needs none of this: its one writer thread commits ids in order.
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
NEXT_XID = "SELECT pg_current_xact_id()::text"
ENDED = "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= %s::xid8"


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
        xid = _one(conn, NEXT_XID)  # autocommit: its own transaction, ended at once
        deadline = time.monotonic() + self.wait
        while not _one(conn, ENDED, (xid,)):
            if time.monotonic() > deadline:
                return None
            time.sleep(POLL)
        return int(last or 0)


def _one(conn: psycopg.Connection[Any], text: str, params: tuple[object, ...] = ()) -> Any:
    row = conn.execute(text.encode(), params).fetchone()
    return row[0] if row else None
