"""``SqliteStore``: the embedded default backend.

One file in the data directory, WAL mode. Reads run on per-thread
connections and never block on the writer. All writes go through one
``SqliteWriter`` thread (``writer.py``), which folds concurrent batches into
one transaction.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from yapdns.core.model import (
    Evidence,
    NegativeRecord,
    Observation,
    Provenance,
    QueryRecord,
    Record,
    RRsetRecord,
    SampleLink,
)
from yapdns.core.rrtypes import rrtype_text
from yapdns.storage import migrations, rows
from yapdns.storage.base import BatchRef, IngestBucket, StoreStats, WriteOutcome, iterate_pages
from yapdns.storage.flex import FlexQuery, FlexRow
from yapdns.storage.query import Page, RecordQuery
from yapdns.storage.sql import Dialect, Sql, grouped_select, record_key_params, record_select, rrset_select
from yapdns.storage.sqlite import flex
from yapdns.storage.sqlite.writer import SqliteWriter

T = TypeVar("T")
_DIALECT = Dialect("?")


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
    return conn


class SqliteStore:
    """The record store in one SQLite file."""

    name = "sqlite"
    migrations_package = "yapdns.storage.sqlite"

    def __init__(self, path: Path | str, *, cache_mb: int = 256, replay_window: int = 7 * 86400) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._cache_mb = cache_mb
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._writer = SqliteWriter(lambda: connect(self.path, readonly=False, cache_mb=cache_mb), replay_window)

    # -- schema -------------------------------------------------------------

    def migrate(self) -> list[str]:
        return self._writer.call(self._migrate)

    def _migrate(self, conn: sqlite3.Connection) -> list[str]:
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
                conn.execute(
                    "INSERT INTO schema_migration VALUES (?, ?, ?)", (version, name, int(time.time()))
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        return migrations.apply_all(self.migrations_package, applied, run)

    # -- writes -------------------------------------------------------------

    def write(self, observations: Sequence[Observation], batch: BatchRef | None = None) -> WriteOutcome:
        return self._writer.write(list(observations), batch)

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

    def _fetch(self, sql: Sql) -> list[tuple[object, ...]]:
        return self._reader().execute(sql.text, sql.params).fetchall()

    def _page(self, build: Callable[[int], Sql], convert: Callable[[rows.Row], T], limit: int) -> Page[T]:
        sql = build(limit + 1)
        fetched = self._fetch(sql)
        more = len(fetched) > limit
        fetched = fetched[:limit]
        cursor = rows.cursor_of(fetched[-1], sql.order_width) if more and fetched else None
        return Page([convert(r) for r in fetched], cursor, more)

    def provs_for(self, sensor: str | None, evidence: Evidence | None) -> list[int] | None:
        """Provenance ids matching a sensor (and its sub-sensors) and/or evidence; None = no filter."""
        if sensor is None and evidence is None:
            return None
        where, params = [], []
        if sensor is not None:
            where.append("(sensor = ? OR substr(sensor, 1, ?) = ?)")
            params += [sensor, len(sensor) + 1, sensor + "/"]
        if evidence is not None:
            where.append("evidence = ?")
            params.append(evidence.value)
        found = self._reader().execute(f"SELECT id FROM prov WHERE {' AND '.join(where)}", params)
        return [pid for (pid,) in found] or [-1]

    def records(self, query: RecordQuery) -> Page[Record]:
        provs = self.provs_for(query.sensor, query.evidence)
        return self._page(lambda n: record_select(_DIALECT, query, provs, n), rows.record, query.limit)

    def iter_records(self, query: RecordQuery) -> Iterator[Record]:
        return iterate_pages(self.records, query)

    def rrsets(self, query: RecordQuery) -> Page[RRsetRecord]:
        return self._page(lambda n: rrset_select(_DIALECT, query, n), rows.rrset, query.limit)

    def iter_rrsets(self, query: RecordQuery) -> Iterator[RRsetRecord]:
        return iterate_pages(self.rrsets, query)

    def iter_flex(self, query: FlexQuery) -> Iterator[FlexRow]:
        return flex.iter_flex(self._reader(), query)

    def negatives(self, query: RecordQuery) -> Page[NegativeRecord]:
        provs = self.provs_for(query.sensor, query.evidence)
        return self._page(
            lambda n: grouped_select(_DIALECT, "negative", query, provs, n), rows.negative, query.limit
        )

    def queries(self, query: RecordQuery) -> Page[QueryRecord]:
        provs = self.provs_for(query.sensor, query.evidence)
        return self._page(lambda n: grouped_select(_DIALECT, "qname", query, provs, n), rows.query, query.limit)

    def provenance(self, rrname: str, rrtype: str, rdata: str) -> list[Provenance]:
        found = self._reader().execute(
            "SELECT p.sensor, p.evidence, p.source, s.time_first, s.time_last, s.count "
            "FROM rr JOIN rr_seen s ON s.rr_id = rr.id JOIN prov p ON p.id = s.prov "
            "WHERE rr.rrname_rev = ? AND rr.rrtype = ? AND rr.rdata = ? ORDER BY p.sensor, p.evidence, p.source",
            record_key_params(rrname, rrtype, rdata),
        )
        return [Provenance(r[0], Evidence(r[1]), r[2], r[3], r[4], r[5]) for r in found]

    def samples(self, rrname: str, rrtype: str, rdata: str) -> list[SampleLink]:
        found = self._reader().execute(
            "SELECT s.sha256, s.task_id, s.time_first, s.time_last, s.count FROM rr "
            "JOIN rr_sample s ON s.rr_id = rr.id WHERE rr.rrname_rev = ? AND rr.rrtype = ? AND rr.rdata = ? "
            "ORDER BY s.time_first, s.sha256, s.task_id",
            record_key_params(rrname, rrtype, rdata),
        )
        return [
            SampleLink(sha256=r[0], task_id=r[1] or None, time_first=r[2], time_last=r[3], count=r[4]) for r in found
        ]

    def sensors(self) -> list[str]:
        return [s for (s,) in self._reader().execute("SELECT DISTINCT sensor FROM prov ORDER BY sensor")]

    def ingest_history(self, since: int) -> list[IngestBucket]:
        found = self._reader().execute(
            "SELECT hour, sensor, observations, new_records FROM ingest_hourly WHERE hour >= ? ORDER BY hour, sensor",
            (since - since % 3600,),
        )
        return [IngestBucket(*r) for r in found]

    def stats(self) -> StoreStats:
        conn = self._reader()
        counters = dict(conn.execute("SELECT name, value FROM counter").fetchall())
        types = conn.execute("SELECT rrtype, records FROM type_count WHERE records > 0 ORDER BY records DESC")
        by_type = {rrtype_text(code): n for code, n in types}
        size = sum(os.path.getsize(p) for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return StoreStats(
            backend=self.name,
            records=counters.get("records", 0),
            rrsets=counters.get("rrsets", 0),
            negatives=counters.get("negatives", 0),
            queries=counters.get("queries", 0),
            observations=counters.get("observations", 0),
            batches=counters.get("batches", 0),
            records_by_type=by_type,
            size_bytes=size,
        )

    def close(self) -> None:
        self._writer.stop()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()


def _statements(sql: str) -> list[str]:
    """Split a migration file into statements (no semicolons inside our DDL strings)."""
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]
