"""The per-name rollup's journal on SQLite (``rollup.JournalDb``; migration 0010).

The writer holds the write lock (``BEGIN IMMEDIATE``) whenever it drains, so the rows it sees are every
committed row and no other process commits one meanwhile: ``lock`` has nothing to do.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from yapdns.storage.rollup import upsert_sql

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

    def append(self, blob: bytes) -> int:
        """Journal one group's deltas; return the row's id."""
        cur = self._conn.execute("INSERT INTO rollup_journal (deltas) VALUES (?)", (blob,))
        return int(cur.lastrowid or 0)
