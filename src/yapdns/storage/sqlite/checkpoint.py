"""``WalCheckpointer``: WAL checkpoints off the writer thread.

By default SQLite checkpoints inside the COMMIT that pushes the WAL past
1000 pages, so the single writer stops ingesting while pages are copied
back into the database file and fsynced. The store turns that off on the
writer connection (``wal_autocheckpoint=0``) and this thread, on its own
connection, runs ``PRAGMA wal_checkpoint(PASSIVE)`` after every commit (the
writer nudges it) and every ``every`` seconds. PASSIVE never blocks the
writer or readers; once a checkpoint has copied every frame, the writer's
next transaction starts the WAL over, and ``journal_size_limit`` (set on the
writer connection) trims the file.

Guarantee: durability is unchanged (frames are in the WAL, which is synced
on commit per ``synchronous``); only where the copy-back work runs moves.
If a PASSIVE checkpoint cannot keep up and the WAL passes ``hard_bytes``, a
RESTART checkpoint waits for the writer's current transaction and resets it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path


class WalCheckpointer:
    """A daemon thread that keeps the WAL short without stalling the writer."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        path: Path,
        *,
        hard_bytes: int = 2 * 2**30,
        every: float = 5.0,
    ) -> None:
        self._connect = connect
        self._wal = Path(f"{path}-wal")
        self._hard_bytes = hard_bytes
        self._every = every
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="yapdns-sqlite-checkpoint", daemon=True)
            self._thread.start()

    def nudge(self) -> None:
        """Called after each commit: check the WAL size now rather than at the next tick."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        conn = self._connect()
        try:
            while not self._stop.is_set():
                self._wake.wait(self._every)
                self._wake.clear()
                self._checkpoint(conn, "RESTART" if self._size() >= self._hard_bytes else "PASSIVE")
            self._checkpoint(conn, "TRUNCATE")
        finally:
            conn.close()

    def _size(self) -> int:
        try:
            return os.path.getsize(self._wal)
        except OSError:
            return 0

    def _checkpoint(self, conn: sqlite3.Connection, mode: str) -> None:
        try:
            conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
            self.checkpoints += 1
        except sqlite3.OperationalError:
            pass  # busy: the next round retries
