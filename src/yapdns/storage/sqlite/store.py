"""``SqliteStore``: the embedded default backend.

One file in the data directory, WAL mode. Reads run on per-thread
connections and never block on the writer (``SqlReader`` holds every read).
All writes go through one ``GroupWriter`` thread, which folds concurrent
batches into one transaction that ``SqliteApplier`` (``writer.py``) applies;
WAL checkpoints run on their own thread (``WalCheckpointer``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from yapdns.core.model import Observation
from yapdns.core.normalize import COUNT_CEILING
from yapdns.core.private import private_dir, private_file
from yapdns.storage import migrations, prune
from yapdns.storage.base import BatchRef, StoreStats, StoreUnavailable, Then, WriteOutcome
from yapdns.storage.context import ContextSql
from yapdns.storage.flex import FlexQuery, FlexRow
from yapdns.storage.group import GroupWriter
from yapdns.storage.prune import PruneReport, RetentionPolicy
from yapdns.storage.reader import SqlReader
from yapdns.storage.rollup import RollupReader
from yapdns.storage.sql import Dialect
from yapdns.storage.sqlite import flex
from yapdns.storage.sqlite.checkpoint import WalCheckpointer
from yapdns.storage.sqlite.rowcache import CACHE_LIMIT
from yapdns.storage.sqlite.writer import GROUP_LIMIT, SqliteApplier
from yapdns.storage.summarize import SummarizeReader
from yapdns.storage.summary import SummaryReader

JOURNAL_LIMIT = 64 * 2**20
T = TypeVar("T")


def connect(path: Path, *, readonly: bool, cache_mb: int) -> sqlite3.Connection:
    """A connection with the store's pragmas (autocommit mode; transactions are explicit)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA cache_size={-1024 * cache_mb}")
    conn.execute("PRAGMA mmap_size=1073741824")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA foreign_keys=OFF")
    if readonly:
        conn.execute("PRAGMA query_only=1")
    conn.create_aggregate("yapdns_count_sum", 1, CountSum)  # type: ignore[arg-type]  # finalize may be NULL
    return conn


class CountSum:
    """``yapdns_count_sum(n)``: ``sum`` saturated at ``COUNT_CEILING`` (SQLite's ``sum`` raises on overflow)."""

    def __init__(self) -> None:
        self.total: int | None = None  # NULL over no rows, as sum()

    def step(self, value: int, /) -> None:
        if value is not None:
            self.total = (self.total or 0) + value

    def finalize(self) -> int | None:
        return None if self.total is None else min(self.total, COUNT_CEILING)


# Primary result codes a retry can cure: busy or locked, I/O errors, a full disk, no file, out of memory.
_TRANSIENT = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN,
     sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_READONLY}
)


def transient(exc: BaseException) -> bool:
    """Whether a failed write may succeed when retried (see ``storage/base.py``)."""
    if isinstance(exc, OSError):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.OperationalError) and code is not None and code & 0xFF in _TRANSIENT


class SqliteStore(SqlReader, RollupReader, SummaryReader, SummarizeReader, ContextSql):
    """The record store in one SQLite file."""

    name = "sqlite"
    dialect = Dialect("?", "yapdns_count_sum({})", wide_sum="total({})")
    migrations_package = "yapdns.storage.sqlite"
    native_sum_raises = True  # RollupReader: sum() first, the saturating Python aggregate on overflow only

    def __init__(
        self, path: Path | str, *, cache_mb: int = 256, rowid_cache: int = CACHE_LIMIT, replay_window: int = 7 * 86400
    ) -> None:
        self.path = Path(path)
        private_file(private_dir(self.path.parent) / self.path.name)
        self._cache_mb = cache_mb
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._checkpointer = WalCheckpointer(lambda: connect(self.path, readonly=False, cache_mb=16), self.path)
        self._applier = SqliteApplier(
            self._writer_connection, replay_window, on_commit=self._checkpointer.nudge, rowid_cache=rowid_cache
        )
        self._writer = GroupWriter(self._applier, group_limit=GROUP_LIMIT, threads=1, name="sqlite-writer")

    def _writer_connection(self) -> sqlite3.Connection:
        conn = connect(self.path, readonly=False, cache_mb=self._cache_mb)
        conn.execute("PRAGMA wal_autocheckpoint=0")  # WalCheckpointer does it, off this thread
        conn.execute(f"PRAGMA journal_size_limit={JOURNAL_LIMIT}")
        self._checkpointer.start()
        return conn

    # -- schema -------------------------------------------------------------

    def migrate(self, through: int | None = None) -> list[str]:
        return self._writer.call(lambda conn: self._migrate(conn, through))

    def _migrate(self, conn: sqlite3.Connection, through: int | None) -> list[str]:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migration "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        applied = {v for (v,) in conn.execute("SELECT version FROM schema_migration")}

        def run(version: int, name: str, sql: str) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(sql):
                    conn.execute(statement)
                if name in migrations.STEPS:
                    migrations.STEPS[name](migrations.ConnectionDb(conn, "?"))
                conn.execute("INSERT INTO schema_migration VALUES (?, ?, ?)", (version, name, int(time.time())))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        done = migrations.apply_all(self.migrations_package, applied, run, through)
        if done:
            self._applier.forget_rows()  # a migration may rewrite or merge rows the writer remembers
        return done

    def readiness(self) -> list[str]:
        """Problems that stop writes: pending migrations, or a file the writer cannot lock for writing."""
        try:
            return self._writer.call(self._readiness)
        except (sqlite3.Error, OSError) as exc:
            return [f"the SQLite store cannot be opened for writing: {exc}"]

    def pending_migrations(self) -> list[str]:
        """The names of the migrations ``migrate`` would apply, in order."""
        return migrations.pending_names(self.migrations_package, self._writer.call(self._applied))

    @staticmethod
    def _applied(conn: sqlite3.Connection) -> set[int]:
        try:
            return {v for (v,) in conn.execute("SELECT version FROM schema_migration")}
        except sqlite3.OperationalError:  # no schema yet
            return set()

    def _readiness(self, conn: sqlite3.Connection) -> list[str]:
        problems = migrations.pending_problem(self.migrations_package, self._applied(conn))
        try:
            conn.execute("BEGIN IMMEDIATE")  # takes the write lock, as a write would
            conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            problems.append(f"the SQLite store is not writable: {exc}")
        return problems

    # -- retention ----------------------------------------------------------

    def prune(self, policy: RetentionPolicy, *, dry_run: bool = False) -> PruneReport:
        """Apply ``policy`` (``storage/prune.py``) in chunks on the writer thread, between ingest groups."""
        report = prune.apply_policy(lambda fn: self._writer.call(lambda conn: self._transaction(conn, fn)),
                                    policy, dry_run, count_sum=self.dialect.count_sum("{0}"),
                                    drain=self._drain_in)
        if not dry_run:  # this process's writer forgets every row id at once (others meet StaleRowIds)
            self._writer.call(lambda conn: self._applier.forget_rows())
        return report

    def _drain_in(self, db: migrations.MigrationDb) -> None:
        self._applier.drain_in(cast(migrations.ConnectionDb, db).connection)

    def flush_rollup(self) -> None:
        """Fold the writer's pending per-name rollup deltas into the rollup tables now (``storage/rollup.py``)."""
        self._writer.call(self._applier.flush)

    def _rollup_current(self) -> None:
        if self._applier.pending.waiting and not self._writer.in_writer_thread():
            self.flush_rollup()

    @staticmethod
    def _transaction(conn: sqlite3.Connection, fn: Callable[[migrations.MigrationDb], T]) -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(migrations.ConnectionDb(conn, "?"))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return result

    # -- writes -------------------------------------------------------------

    def write(
        self, observations: Sequence[Observation], batch: BatchRef | None = None, then: Sequence[Then] = ()
    ) -> WriteOutcome:
        try:
            return self._writer.write(list(observations), batch, then)
        except (sqlite3.Error, OSError) as exc:
            if transient(exc):
                raise StoreUnavailable(f"SQLite: {exc}") from exc
            raise

    def _in_write_transaction(self, fn: Callable[[migrations.MigrationDb], int]) -> int:
        def run(conn: sqlite3.Connection) -> int:
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = fn(migrations.ConnectionDb(conn, "?"))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return done

        try:
            return self._writer.call(run)
        except (sqlite3.Error, OSError) as exc:
            if transient(exc):
                raise StoreUnavailable(f"SQLite: {exc}") from exc
            raise

    def _p(self, text: str) -> str:
        return text

    # -- reads --------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True, cache_mb=self._cache_mb)
            flex.register_flex_functions(conn)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _rows(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self._reader().execute(text, tuple(params)).fetchall()

    def iter_flex(self, query: FlexQuery) -> Iterator[FlexRow]:
        return flex.iter_flex(self._reader(), query)

    def stats(self) -> StoreStats:
        counters, by_type = self._totals()
        size = sum(os.path.getsize(p) for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return StoreStats(backend=self.name, **counters, records_by_type=by_type, size_bytes=size)

    def close(self) -> None:
        self._writer.stop()
        self._checkpointer.stop()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()


def _statements(sql: str) -> list[str]:
    """Split a migration file into statements (no semicolons inside our DDL strings)."""
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]
