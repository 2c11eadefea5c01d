"""``SqliteApplier``: how the SQLite store applies one group of writes.

``GroupWriter`` (``storage/group.py``) runs it on the store's single writer
thread. One group is one ``BEGIN IMMEDIATE`` transaction: replayed batch
ids are dropped, the rest is folded by ``BatchAggregate``; records the
writer has seen before are updated by row id, new ones upserted through a
TEMP staging table (``rowids.py``), then ``rr_seen``, RRsets, negatives,
bare queries, samples, batch ids and the counters follow, and one COMMIT
makes all of it visible at once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from yapdns.storage.aggregate import (
    FoldedBatch,
    ProvKey,
    Stats,
    fold_batches,
    saturating_add,
    stage_grouped_rows,
    stage_name_sample_rows,
    stage_sample_rows,
)
from yapdns.storage.base import BatchRef, WriteOutcome
from yapdns.storage.group import BatchKey, WriteJob, hour_sensor, resolve_replays
from yapdns.storage.rollup import FLUSH_SECONDS, Pending, Staged, drain, stage_group
from yapdns.storage.sqlite.journal import SqliteJournal
from yapdns.storage.sqlite.rowcache import CACHE_LIMIT, RowIdCache, StaleRowIds
from yapdns.storage.sqlite.rowids import upsert_rr, upsert_rrset

GROUP_LIMIT = 1_000_000
PURGE_EVERY = 3600.0

_MERGE = (
    "time_first = min(time_first, excluded.time_first), "
    f"time_last = max(time_last, excluded.time_last), count = {saturating_add('min', 'count', 'excluded.count')}"
)

NAME_SAMPLE_UPSERT = (
    "INSERT INTO name_sample (rrname_rev, rrname, rrtype, rcode, sha256, task_id, time_first, time_last, count) "
    f"VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (rrname_rev, rrtype, rcode, sha256, task_id) DO UPDATE SET {_MERGE}"
)


class SqliteApplier:
    """Owns the writing connection's transactions (one per group)."""

    keep_rollup = True  # benchmarks/ingest.py turns it off to measure what the rollup costs (never in service)
    rollup_flush_seconds = FLUSH_SECONDS  # how long rollup deltas may wait in memory (storage/rollup.py)

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        replay_window: int,
        on_commit: Callable[[], None] = lambda: None,
        rowid_cache: int = CACHE_LIMIT,
    ) -> None:
        self._connect = connect
        self._on_commit = on_commit
        self._replay_window = replay_window
        self._prov: dict[ProvKey, int] = {}
        self._rowids = RowIdCache(rowid_cache)
        self._last_purge = 0.0
        self._has_rollup = False
        self.pending = Pending()  # rollup deltas of committed groups, not yet in the rollup tables
        self._staged: Staged | None = None  # this transaction's journal row, for ``pending`` after COMMIT

    def _rollup_ready(self, conn: sqlite3.Connection) -> bool:
        """Whether migration 0011 made ``rollup_big`` (checked until it has: a writer at an older schema leaves the
        rollup to that migration's fill)."""
        if not self._has_rollup:
            self._has_rollup = _table(conn, "rollup_big")
        return self._has_rollup

    def _keep_rollup(self, conn: sqlite3.Connection, folded: FoldedBatch, new_rr: dict[tuple[str, int], int],
                     new_sets: dict[tuple[str, int], int]) -> None:
        """Journal the group's rollup deltas; ``pending`` gets them after COMMIT."""
        self._staged = stage_group(SqliteJournal(conn), self.pending, folded, new_rr, new_sets)

    def flush(self, conn: sqlite3.Connection) -> None:
        """Drain the rollup journal now, in a transaction of its own (outside any ingest transaction)."""
        if not (self.pending.seqs or self.pending.candidates or self.pending.check) or not self._rollup_ready(conn):
            self.pending.check = False
            return
        self.pending.draining = True
        conn.execute("BEGIN IMMEDIATE")
        try:
            drain(SqliteJournal(conn), self.pending)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")  # the journal rows stay; the next drain (at the next tick) decodes them
            self.pending.check = True
            raise
        finally:
            self.pending.draining = False

    def drain_in(self, conn: sqlite3.Connection) -> None:
        """Drain the rollup journal inside the caller's transaction (the prune, before it rebuilds names)."""
        if self._rollup_ready(conn):
            drain(SqliteJournal(conn), self.pending, lock=True)
            self.pending.check = True  # look again at the next tick, in case the caller rolls back

    def idle(self, conn: sqlite3.Connection) -> None:
        """Between groups, or with nothing queued: drain the rollup journal when it is due."""
        due = self.pending.due(self.rollup_flush_seconds)
        if due or (self.pending.orphan_check_due() and self._rollup_ready(conn) and self._orphans(conn)):
            self.flush(conn)

    def _orphans(self, conn: Any) -> bool:
        """Whether rows of a writer that no longer drains them sit in the journal (``Pending.orphans``)."""
        return self.pending.orphans(seq for (seq,) in conn.execute("SELECT seq FROM rollup_journal"))

    def connect(self) -> sqlite3.Connection:
        return self._connect()  # with yapdns_count_sum, which the grouped staging upsert uses

    def forget_rows(self) -> None:
        """Drop the row-id cache (on the writer thread): after a migration rewrote or merged rows."""
        self._rowids.clear()

    def disconnect(self, conn: sqlite3.Connection) -> None:
        conn.close()

    def healthy(self, conn: sqlite3.Connection) -> bool:
        return True  # a local file does not drop the connection

    def after_group(self, conn: sqlite3.Connection) -> None:
        """Drain the rollup journal when due; forget batch ids older than the replay window (hourly); both
        outside ingest transactions."""
        self.idle(conn)
        now = time.time()
        if now - self._last_purge < PURGE_EVERY:
            return
        self._last_purge = now
        conn.execute("DELETE FROM batch WHERE applied_at < ?", (int(now) - self._replay_window,))

    def apply(self, conn: sqlite3.Connection, jobs: list[WriteJob]) -> list[WriteOutcome]:
        try:
            return self._transaction(conn, jobs)
        except StaleRowIds:  # rows vanished behind the cache (now cleared): apply again without it
            return self._transaction(conn, jobs)

    def _transaction(self, conn: sqlite3.Connection, jobs: list[WriteJob]) -> list[WriteOutcome]:
        conn.execute("BEGIN IMMEDIATE")
        self._staged = None
        try:
            outcomes, fresh = self._sort_replays(conn, jobs)
            if fresh:
                folded = fold_batches((job.observations for job in fresh), lambda keys: self._prov_ids(conn, keys))
                self._apply(conn, folded, fresh)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            self._staged = None  # its journal row is gone with it
            self._prov.clear()
            self._rowids.clear()  # ids of rows this transaction inserted are gone
            raise
        if self._staged is not None:
            self.pending.add(*self._staged)
            self._staged = None
        self._rowids.trim()  # between groups it holds at most its limit
        self._on_commit()
        return outcomes

    def _sort_replays(
        self, conn: sqlite3.Connection, jobs: list[WriteJob]
    ) -> tuple[list[WriteOutcome], list[WriteJob]]:
        def applied(refs: list[BatchRef]) -> dict[BatchKey, BatchRef]:
            found = (_applied(conn, ref) for ref in refs)
            return {(r.sensor, r.batch_id): r for r in found if r is not None}

        return resolve_replays(jobs, applied)

    def _prov_ids(self, conn: sqlite3.Connection, keys: set[ProvKey]) -> dict[ProvKey, int]:
        for key in keys - self._prov.keys():
            conn.execute("INSERT OR IGNORE INTO prov (sensor, evidence, source) VALUES (?, ?, ?)", key)
            (pid,) = conn.execute(
                "SELECT id FROM prov WHERE sensor = ? AND evidence = ? AND source = ?", key
            ).fetchone()
            self._prov[key] = pid
        return self._prov

    def _apply(self, conn: sqlite3.Connection, folded: FoldedBatch, jobs: list[WriteJob]) -> None:
        rollup = self.keep_rollup and bool(folded.rr or folded.rrset) and self._rollup_ready(conn)
        new_rr: dict[tuple[str, int], int] = {}
        new_sets: dict[tuple[str, int], int] = {}
        if folded.rr:
            new_rr = upsert_rr(conn, folded, self._rowids, per_name=rollup)
            _add_type_counts(conn, new_rr)
        if folded.rrset:
            new_sets = upsert_rrset(conn, folded, self._rowids, per_name=rollup)
        if rollup:
            self._keep_rollup(conn, folded, new_rr, new_sets)
        new_records, new_rrsets = sum(new_rr.values()), sum(new_sets.values())
        new_neg = _upsert_grouped(conn, "negative", folded.negative, True) if folded.negative else 0
        new_q = _upsert_grouped(conn, "qname", folded.query, False) if folded.query else 0
        if folded.sample:
            _upsert_samples(conn, folded)
        if folded.name_sample:
            conn.executemany(NAME_SAMPLE_UPSERT, stage_name_sample_rows(folded))
        now = int(time.time())
        refs = [j.batch for j in jobs if j.batch is not None]
        conn.executemany(
            "INSERT INTO batch VALUES (?, ?, ?, ?, ?)",
            [(r.sensor, r.batch_id, now, r.accepted, r.rejected) for r in refs],
        )
        conn.execute(
            "INSERT INTO ingest_hourly VALUES (?, ?, ?, ?) ON CONFLICT (hour, sensor) DO UPDATE SET "
            f"observations = {saturating_add('min', 'observations', 'excluded.observations')}, "
            "new_records = new_records + excluded.new_records",
            (now - now % 3600, hour_sensor(jobs), folded.observations, new_records),
        )
        _bump(
            conn,
            observations=folded.observations,
            records=new_records,
            rrsets=new_rrsets,
            negatives=new_neg,
            queries=new_q,
            batches=len(refs),
        )


def _table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _applied(conn: sqlite3.Connection, ref: BatchRef) -> BatchRef | None:
    row = conn.execute(
        "SELECT accepted, rejected FROM batch WHERE sensor = ? AND batch_id = ?", (ref.sensor, ref.batch_id)
    ).fetchone()
    return BatchRef(ref.sensor, ref.batch_id, row[0], row[1]) if row else None


def _max_id(conn: sqlite3.Connection, table: str) -> int:
    row = conn.execute(f"SELECT max(id) FROM {table}").fetchone()
    return int(row[0] or 0)


def _count_new(conn: sqlite3.Connection, table: str, before: int) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table} WHERE id > ?", (before,)).fetchone()[0])


def _add_type_counts(conn: sqlite3.Connection, new_rr: dict[tuple[str, int], int]) -> None:
    per_type: dict[int, int] = {}
    for (_, code), n in new_rr.items():
        per_type[code] = per_type.get(code, 0) + n
    conn.executemany(
        "INSERT INTO type_count VALUES (?, ?) ON CONFLICT (rrtype) DO UPDATE SET records = records + excluded.records",
        sorted(per_type.items()),
    )


def _upsert_grouped(conn: sqlite3.Connection, table: str, rows: dict[Any, Stats], with_rcode: bool) -> int:
    before = _max_id(conn, table)
    cols = "rrname_rev, rrname, rrtype, rcode, prov" if with_rcode else "rrname_rev, rrname, rrtype, prov"
    width = 5 if with_rcode else 4
    conn.executemany(
        f"INSERT INTO {table} ({cols}, time_first, time_last, count) VALUES ({', '.join('?' * (width + 3))}) "
        f"ON CONFLICT ({cols.replace('rrname, ', '')}) DO UPDATE SET {_MERGE}",
        stage_grouped_rows(rows),
    )
    return _count_new(conn, table, before)


def _upsert_samples(conn: sqlite3.Connection, folded: FoldedBatch) -> None:
    conn.executemany(
        "INSERT INTO rr_sample (rr_id, sha256, task_id, time_first, time_last, count) "
        "SELECT rr.id, ?4, ?5, ?6, ?7, ?8 FROM rr WHERE rr.rrname_rev = ?1 AND rr.rrtype = ?2 AND rr.rdata = ?3 "
        f"ON CONFLICT (rr_id, sha256, task_id) DO UPDATE SET {_MERGE}",
        stage_sample_rows(folded),
    )


def _bump(conn: sqlite3.Connection, **deltas: int) -> None:
    conn.executemany(
        "INSERT INTO counter VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET "
        f"value = {saturating_add('min', 'value', 'excluded.value')}",
        [(k, v) for k, v in deltas.items() if v],
    )
