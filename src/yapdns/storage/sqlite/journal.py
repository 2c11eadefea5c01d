"""The per-name rollup's journal on SQLite (``rollup.JournalDb``; migrations 0010 and 0011).

The writer holds the write lock (``BEGIN IMMEDIATE``) whenever it drains or applies a group, so the rows it sees
are every committed row and no other process commits one (or promotes a name) meanwhile: ``lock`` has nothing
to do, and a group reads ``rollup_big`` anywhere in its transaction.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from yapdns.storage import rollup
from yapdns.storage.migrations import ConnectionDb
from yapdns.storage.rollup import rebuild_names, upsert_sql

ROLLUP_UPSERT = upsert_sql("sqlite", "")


class SqliteJournal:
    """``JournalDb`` over the writer's connection, inside its transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def lock(self) -> None:
        """The write lock is held already."""

    def seqs(self) -> list[int]:
        return [seq for (seq,) in self._conn.execute("SELECT seq FROM rollup_journal ORDER BY seq")]

    def blobs(self, seqs: list[int]) -> list[bytes]:
        wanted = set(seqs)
        return [bytes(b) for seq, b in self._conn.execute("SELECT seq, deltas FROM rollup_journal") if seq in wanted]

    def delete(self, seqs: list[int]) -> None:
        self._conn.execute("DELETE FROM rollup_journal WHERE seq <= ?", (max(seqs),))  # every row: the lock is held

    def upsert(self, rows: list[tuple[Any, ...]]) -> None:
        self._conn.executemany(ROLLUP_UPSERT, rows)

    def crossed(self, revs: list[str]) -> list[str]:
        found = self._conn.execute(
            "SELECT j.value FROM json_each(?) j WHERE NOT EXISTS (SELECT 1 FROM rollup_big b WHERE b.rrname_rev = "
            "j.value) AND (SELECT count(*) FROM (SELECT 1 FROM rr WHERE rrname_rev = j.value LIMIT ?)) >= ?",
            (json.dumps(revs), rollup.BIG_RECORDS, rollup.BIG_RECORDS),
        )
        return [rev for (rev,) in found]

    def promote(self, revs: list[str]) -> None:
        self._conn.executemany("INSERT OR IGNORE INTO rollup_big (rrname_rev) VALUES (?)", [(r,) for r in revs])
        rebuild_names(ConnectionDb(self._conn, "?"), revs, "yapdns_count_sum({0})")

    def big_since(self, seq: int) -> list[tuple[int, str]]:
        """The ``rollup_big`` rows after ``seq`` (the group's transaction holds the write lock)."""
        return list(self._conn.execute("SELECT seq, rrname_rev FROM rollup_big WHERE seq > ?", (seq,)))

    def append(self, blob: bytes) -> int:
        """Journal one group's deltas; return the row's id."""
        cur = self._conn.execute("INSERT INTO rollup_journal (deltas) VALUES (?)", (blob,))
        return int(cur.lastrowid or 0)
