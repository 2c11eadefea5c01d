"""``SqliteWriter``: the single writer thread of the SQLite store.

Callers hand it jobs and wait. The thread drains every queued write job
(up to ``GROUP_LIMIT`` observations), drops replayed batch ids, folds the
rest into one ``BatchAggregate`` and applies it in one transaction: big
transactions are what make SQLite ingest fast (reference/storage-benchmark.md
§6). If the group fails, each job is retried alone, so one bad job never
sinks the others. A caller's ``write`` returns only after its commit.
"""

from __future__ import annotations

import functools
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from yapdns.core.errors import StoreError
from yapdns.core.model import Observation
from yapdns.core.names import reverse_name
from yapdns.core.rdata import ip_key, target_name
from yapdns.storage.aggregate import BatchAggregate
from yapdns.storage.base import BatchRef, WriteOutcome

T = TypeVar("T")
GROUP_LIMIT = 1_000_000
QUEUE_SIZE = 64

_MERGE = (
    "time_first = min(time_first, excluded.time_first), "
    "time_last = max(time_last, excluded.time_last), count = count + excluded.count"
)
_MERGE_TTL = (
    _MERGE + ", ttl_min = coalesce(min(ttl_min, excluded.ttl_min), ttl_min, excluded.ttl_min), "
    "ttl_max = coalesce(max(ttl_max, excluded.ttl_max), ttl_max, excluded.ttl_max)"
)


class _WriteJob:
    def __init__(self, observations: list[Observation], batch: BatchRef | None) -> None:
        self.observations = observations
        self.batch = batch
        self.future: Future[WriteOutcome] = Future()


class _CallJob:
    def __init__(self, fn: Callable[[sqlite3.Connection], Any]) -> None:
        self.fn = fn
        self.future: Future[Any] = Future()


class SqliteWriter:
    """Owns the only writing connection; serializes and groups every write."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], replay_window: int) -> None:
        self._connect = connect
        self._replay_window = replay_window
        self._queue: queue.Queue[_WriteJob | _CallJob | None] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._prov: dict[tuple[str, str, str], int] = {}
        self._last_purge = 0.0

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="yapdns-sqlite-writer", daemon=True)
                self._thread.start()

    def write(self, observations: list[Observation], batch: BatchRef | None) -> WriteOutcome:
        job = _WriteJob(observations, batch)
        self._ensure_started()
        self._queue.put(job)
        return job.future.result()

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the writer's connection, in the writer thread."""
        job = _CallJob(fn)
        self._ensure_started()
        self._queue.put(job)
        result: T = job.future.result()
        return result

    def stop(self) -> None:
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join()

    # -- the thread ---------------------------------------------------------

    def _run(self) -> None:
        conn = self._connect()
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    return
                if isinstance(job, _CallJob):
                    _settle(job.future, functools.partial(job.fn, conn))
                    continue
                group = [job]
                stop = self._collect(group)
                self._apply_group(conn, group)
                if stop:
                    return
                self._maybe_purge(conn)
        finally:
            conn.close()

    def _collect(self, group: list[_WriteJob]) -> bool:
        """Add queued write jobs to ``group`` up to the size limit; True if a stop was seen."""
        size = len(group[0].observations)
        while size < GROUP_LIMIT:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                return False
            if nxt is None:
                return True
            if isinstance(nxt, _CallJob):
                self._queue.put(nxt)  # run after this group
                return False
            group.append(nxt)
            size += len(nxt.observations)
        return False

    def _apply_group(self, conn: sqlite3.Connection, group: list[_WriteJob]) -> None:
        try:
            outcomes = self._transaction(conn, group)
        except Exception:
            if len(group) == 1:
                _settle(group[0].future, lambda: self._transaction(conn, group)[0])
                return
            for job in group:
                self._apply_group(conn, [job])
            return
        for job, outcome in zip(group, outcomes, strict=True):
            job.future.set_result(outcome)

    def _transaction(self, conn: sqlite3.Connection, group: list[_WriteJob]) -> list[WriteOutcome]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            outcomes, fresh = self._sort_replays(conn, group)
            agg = BatchAggregate(lambda s, e, src: self._prov_id(conn, s, e, src))
            for job in fresh:
                agg.add_all(job.observations)
            if fresh:
                self._apply(conn, agg, fresh)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            self._prov.clear()
            raise
        return outcomes

    def _sort_replays(
        self, conn: sqlite3.Connection, group: list[_WriteJob]
    ) -> tuple[list[WriteOutcome], list[_WriteJob]]:
        outcomes: list[WriteOutcome] = []
        fresh: list[_WriteJob] = []
        seen: dict[tuple[str, str], BatchRef] = {}
        for job in group:
            ref = job.batch
            earlier = None
            if ref is not None:
                earlier = seen.get((ref.sensor, ref.batch_id)) or _applied(conn, ref)
            if earlier is not None:
                outcomes.append(WriteOutcome(True, earlier.accepted, earlier.rejected))
                continue
            if ref is not None:
                seen[(ref.sensor, ref.batch_id)] = ref
            accepted = ref.accepted if ref else len(job.observations)
            outcomes.append(WriteOutcome(False, accepted, ref.rejected if ref else 0))
            fresh.append(job)
        return outcomes, fresh

    def _prov_id(self, conn: sqlite3.Connection, sensor: str, evidence: str, source: str) -> int:
        key = (sensor, evidence, source)
        pid = self._prov.get(key)
        if pid is None:
            conn.execute("INSERT OR IGNORE INTO prov (sensor, evidence, source) VALUES (?, ?, ?)", key)
            (pid,) = conn.execute(
                "SELECT id FROM prov WHERE sensor = ? AND evidence = ? AND source = ?", key
            ).fetchone()
            self._prov[key] = pid
        return pid

    # -- applying one aggregate -------------------------------------------

    def _apply(self, conn: sqlite3.Connection, agg: BatchAggregate, jobs: list[_WriteJob]) -> None:
        new_records = _upsert_rr(conn, agg) if agg.rr else 0
        new_rrsets = _upsert_rrset(conn, agg) if agg.rrset else 0
        new_neg = _upsert_grouped(conn, "negative", agg.negative, True) if agg.negative else 0
        new_q = _upsert_grouped(conn, "qname", agg.query, False) if agg.query else 0
        if agg.sample:
            _upsert_samples(conn, agg)
        now = int(time.time())
        refs = [j.batch for j in jobs if j.batch is not None]
        conn.executemany(
            "INSERT INTO batch VALUES (?, ?, ?, ?, ?)",
            [(r.sensor, r.batch_id, now, r.accepted, r.rejected) for r in refs],
        )
        sensors = {o.sensor_id or "" for j in jobs for o in j.observations[:1]}
        hour_sensor = sensors.pop() if len(sensors) == 1 else ""
        conn.execute(
            "INSERT INTO ingest_hourly VALUES (?, ?, ?, ?) ON CONFLICT (hour, sensor) DO UPDATE SET "
            "observations = observations + excluded.observations, new_records = new_records + excluded.new_records",
            (now - now % 3600, hour_sensor, agg.observations, new_records),
        )
        _bump(
            conn,
            observations=agg.observations,
            records=new_records,
            rrsets=new_rrsets,
            negatives=new_neg,
            queries=new_q,
            batches=len(refs),
        )

    def _maybe_purge(self, conn: sqlite3.Connection) -> None:
        """Forget batch ids older than the replay window (hourly, outside ingest transactions)."""
        now = time.time()
        if now - self._last_purge < 3600:
            return
        self._last_purge = now
        conn.execute("DELETE FROM batch WHERE applied_at < ?", (int(now) - self._replay_window,))


def _settle(future: Future[Any], fn: Callable[[], Any]) -> None:
    try:
        future.set_result(fn())
    except BaseException as exc:  # handed to the waiting caller
        future.set_exception(exc)


def _applied(conn: sqlite3.Connection, ref: BatchRef) -> BatchRef | None:
    row = conn.execute(
        "SELECT accepted, rejected FROM batch WHERE sensor = ? AND batch_id = ?", (ref.sensor, ref.batch_id)
    ).fetchone()
    return BatchRef(ref.sensor, ref.batch_id, row[0], row[1]) if row else None


def _max_id(conn: sqlite3.Connection, table: str) -> int:
    row = conn.execute(f"SELECT max(id) FROM {table}").fetchone()
    return int(row[0] or 0)


def _upsert_rr(conn: sqlite3.Connection, agg: BatchAggregate) -> int:
    """Stage RR rows, upsert ``rr`` from them, then ``rr_seen`` by joining back; return new rows."""
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_rr (rrname_rev TEXT, rrname TEXT, rrtype INTEGER, rdata TEXT, "
        "ip BLOB, target_rev TEXT, prov INTEGER, tf INTEGER, tl INTEGER, n INTEGER, tmin INTEGER, tmax INTEGER)"
    )
    conn.execute("DELETE FROM stage_rr")
    conn.executemany("INSERT INTO stage_rr VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", _rr_rows(agg))
    before = _max_id(conn, "rr")
    source = (
        "SELECT rrname_rev, rrname, rrtype, rdata, ip, target_rev, tf, tl, n, tmin, tmax FROM stage_rr WHERE true"
        if agg.single_prov
        else "SELECT rrname_rev, rrname, rrtype, rdata, ip, target_rev, min(tf), max(tl), sum(n), min(tmin), "
        "max(tmax) FROM stage_rr GROUP BY rrname_rev, rrtype, rdata"
    )
    conn.execute(
        "INSERT INTO rr (rrname_rev, rrname, rrtype, rdata, ip, target_rev, time_first, time_last, count, "
        f"ttl_min, ttl_max) {source} ON CONFLICT (rrname_rev, rrtype, rdata) DO UPDATE SET {_MERGE_TTL}"
    )
    conn.execute(
        "INSERT INTO rr_seen (rr_id, prov, time_first, time_last, count) "
        "SELECT rr.id, s.prov, s.tf, s.tl, s.n FROM stage_rr s JOIN rr ON rr.rrname_rev = s.rrname_rev "
        f"AND rr.rrtype = s.rrtype AND rr.rdata = s.rdata WHERE true ON CONFLICT (rr_id, prov) DO UPDATE SET {_MERGE}"
    )
    return _count_new(conn, "rr", before, by_type=True)


def _rr_rows(agg: BatchAggregate) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for (name, code, rdata, prov), st in agg.rr.items():
        target = target_name(code, rdata)
        out.append(
            (
                reverse_name(name),
                name,
                code,
                rdata,
                ip_key(code, rdata),
                reverse_name(target) if target else None,
                prov,
                *st,
            )
        )
    return out


def _count_new(conn: sqlite3.Connection, table: str, before: int, by_type: bool = False) -> int:
    if not by_type:
        return int(conn.execute(f"SELECT count(*) FROM {table} WHERE id > ?", (before,)).fetchone()[0])
    per_type = conn.execute(f"SELECT rrtype, count(*) FROM {table} WHERE id > ? GROUP BY rrtype", (before,)).fetchall()
    conn.executemany(
        "INSERT INTO type_count VALUES (?, ?) ON CONFLICT (rrtype) DO UPDATE SET records = records + excluded.records",
        per_type,
    )
    return sum(n for _, n in per_type)


def _upsert_rrset(conn: sqlite3.Connection, agg: BatchAggregate) -> int:
    before = _max_id(conn, "rrset")
    conn.executemany(
        "INSERT INTO rrset (rrname_rev, rrname, rrtype, bailiwick, rdata, time_first, time_last, count, ttl_min, "
        "ttl_max) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (rrname_rev, rrtype, bailiwick, rdata) "
        f"DO UPDATE SET {_MERGE_TTL}",
        [(reverse_name(k[0]), *k, *st) for k, st in agg.rrset.items()],
    )
    return _count_new(conn, "rrset", before)


def _upsert_grouped(conn: sqlite3.Connection, table: str, rows: dict[Any, list[Any]], with_rcode: bool) -> int:
    before = _max_id(conn, table)
    cols = "rrname_rev, rrname, rrtype, rcode, prov" if with_rcode else "rrname_rev, rrname, rrtype, prov"
    width = 5 if with_rcode else 4
    conn.executemany(
        f"INSERT INTO {table} ({cols}, time_first, time_last, count) VALUES ({', '.join('?' * (width + 3))}) "
        f"ON CONFLICT ({cols.replace('rrname, ', '')}) DO UPDATE SET {_MERGE}",
        [(reverse_name(k[0]), *k, st[0], st[1], st[2]) for k, st in rows.items()],
    )
    return _count_new(conn, table, before)


def _upsert_samples(conn: sqlite3.Connection, agg: BatchAggregate) -> None:
    conn.executemany(
        "INSERT INTO rr_sample (rr_id, sha256, task_id, time_first, time_last, count) "
        "SELECT rr.id, ?, ?, ?, ?, ? FROM rr WHERE rr.rrname_rev = ? AND rr.rrtype = ? AND rr.rdata = ? "
        f"ON CONFLICT (rr_id, sha256, task_id) DO UPDATE SET {_MERGE}",
        [(sha, task, st[0], st[1], st[2], reverse_name(name), code, rdata)
         for (name, code, rdata, sha, task), st in agg.sample.items()],
    )


def _bump(conn: sqlite3.Connection, **deltas: int) -> None:
    conn.executemany(
        "INSERT INTO counter VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
        [(k, v) for k, v in deltas.items() if v],
    )


__all__ = ["SqliteWriter", "StoreError"]
