"""``PostgresApplier``: how the PostgreSQL store applies one group of writes.

One group is one transaction on the writer's own connection:

1. batch ids are claimed first (``INSERT ... ON CONFLICT DO NOTHING``): a
   replay finds its id taken and changes nothing; a concurrent writer with
   the same id waits on the unique index until the first one commits or
   rolls back, so an id is applied once even across processes;
2. observations are folded in Python (``BatchAggregate``), then ``COPY``-ed
   into TEMP staging tables (``ON COMMIT DELETE ROWS``);
3. ``INSERT ... SELECT ... ORDER BY key ON CONFLICT DO UPDATE`` upserts each
   table; ``rr_seen`` is fed from the ``RETURNING`` of the ``rr`` upsert in
   the same statement, and ``xmax = 0`` tells new rows from updated ones;
4. counters, per-type counts and the hourly ingest row follow.

Every table is touched in the same order and every upsert is ordered by its
key, so concurrent writers (several processes) wait for each other instead
of deadlocking; a deadlock or serialization failure that still happens is
retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
from psycopg import errors

from yapdns.core.normalize import COUNT_CEILING
from yapdns.storage.aggregate import (
    FoldedBatch,
    ProvKey,
    fold_batches,
    saturating_add,
    stage_grouped_rows,
    stage_name_sample_rows,
    stage_rr_rows,
    stage_rrset_rows,
    stage_sample_rows,
)
from yapdns.storage.base import BatchRef, WriteOutcome
from yapdns.storage.group import BatchKey, WriteJob, hour_sensor, resolve_replays
from yapdns.storage.postgres.journal import STAGE as ROLLUP_STAGE
from yapdns.storage.postgres.journal import PgJournal
from yapdns.storage.rollup import FLUSH_SECONDS, Pending, Staged, drain, stage_group

GROUP_LIMIT = 1_000_000
PURGE_EVERY = 3600.0
RETRIES = 3

_C = 'text COLLATE "C"'
STAGING = (
    f"CREATE TEMP TABLE IF NOT EXISTS stage_rr (rrname_rev {_C}, rrname {_C}, rrtype integer, rdata {_C}, "
    f"ip bytea, target_rev {_C}, prov integer, tf bigint, tl bigint, n bigint, tmin integer, tmax integer, "
    "ztf bigint, ztl bigint, zo boolean) ON COMMIT DELETE ROWS",
    f"CREATE TEMP TABLE IF NOT EXISTS stage_rrset (rrname_rev {_C}, rrname {_C}, rrtype integer, bailiwick {_C}, "
    f"rdata {_C}, tf bigint, tl bigint, n bigint, tmin integer, tmax integer, ztf bigint, ztl bigint, zo boolean) "
    "ON COMMIT DELETE ROWS",
    f"CREATE TEMP TABLE IF NOT EXISTS stage_negative (rrname_rev {_C}, rrname {_C}, rrtype integer, rcode {_C}, "
    "prov integer, tf bigint, tl bigint, n bigint) ON COMMIT DELETE ROWS",
    f"CREATE TEMP TABLE IF NOT EXISTS stage_qname (rrname_rev {_C}, rrname {_C}, rrtype integer, "
    "prov integer, tf bigint, tl bigint, n bigint) ON COMMIT DELETE ROWS",
    f"CREATE TEMP TABLE IF NOT EXISTS stage_sample (rrname_rev {_C}, rrtype integer, rdata {_C}, sha256 {_C}, "
    f"task_id {_C}, tf bigint, tl bigint, n bigint) ON COMMIT DELETE ROWS",
    ROLLUP_STAGE,
)
_MERGE = (
    "time_first = LEAST(t.time_first, EXCLUDED.time_first), "
    "time_last = GREATEST(t.time_last, EXCLUDED.time_last), "
    f"count = {saturating_add('LEAST', 't.count', 'EXCLUDED.count')}"
)
_WINDOWS = (  # core.windows.combine in SQL; LEAST/GREATEST ignore NULLs (no zone window yet)
    "time_first = CASE WHEN t.zone_only = EXCLUDED.zone_only THEN LEAST(t.time_first, EXCLUDED.time_first) "
    "WHEN t.zone_only THEN EXCLUDED.time_first ELSE t.time_first END, "
    "time_last = CASE WHEN t.zone_only = EXCLUDED.zone_only THEN GREATEST(t.time_last, EXCLUDED.time_last) "
    "WHEN t.zone_only THEN EXCLUDED.time_last ELSE t.time_last END, "
    "zone_time_first = LEAST(t.zone_time_first, EXCLUDED.zone_time_first), "
    "zone_time_last = GREATEST(t.zone_time_last, EXCLUDED.zone_time_last), "
    "zone_only = t.zone_only AND EXCLUDED.zone_only, "
    f"count = {saturating_add('LEAST', 't.count', 'EXCLUDED.count')}"
)
_MERGE_TTL = (  # LEAST/GREATEST ignore NULLs: exactly the ttl semantics
    _WINDOWS + ", ttl_min = LEAST(t.ttl_min, EXCLUDED.ttl_min), ttl_max = GREATEST(t.ttl_max, EXCLUDED.ttl_max)"
)
_RR_COLS = "rrname_rev, rrname, rrtype, rdata, ip, target_rev"
_STATS_COLS = "time_first, time_last, count, ttl_min, ttl_max, zone_time_first, zone_time_last, zone_only"
_RR_SOURCE_UNIQUE = f"SELECT {_RR_COLS}, tf, tl, n, tmin, tmax, ztf, ztl, zo FROM stage_rr"
_RR_SOURCE_GROUPED = (  # several provenances of one record: the traffic hull if any, else the zone hull
    f"SELECT {_RR_COLS}, coalesce(min(tf) FILTER (WHERE NOT zo), min(tf)), "
    f"coalesce(max(tl) FILTER (WHERE NOT zo), max(tl)), LEAST(sum(n), {COUNT_CEILING}), min(tmin), max(tmax), "
    f"min(ztf), max(ztl), bool_and(zo) FROM stage_rr GROUP BY {_RR_COLS}"
)
_RR_UPSERT = (
    f"WITH up AS (INSERT INTO rr AS t ({_RR_COLS}, {_STATS_COLS}) {{source}} ORDER BY 1, 3, 4 "
    f"ON CONFLICT ON CONSTRAINT rr_key DO UPDATE SET {_MERGE_TTL} "
    "RETURNING t.id, t.rrname_rev, t.rrtype, t.rdata, (t.xmax = 0) AS fresh), "
    "seen AS (INSERT INTO rr_seen AS t (rr_id, prov, time_first, time_last, count, zone_time_first, "
    "zone_time_last, zone_only) SELECT up.id, s.prov, s.tf, s.tl, s.n, s.ztf, s.ztl, s.zo FROM up JOIN stage_rr s "
    "ON s.rrname_rev = up.rrname_rev AND s.rrtype = up.rrtype AND s.rdata = up.rdata ORDER BY 1, 2 "
    f"ON CONFLICT (rr_id, prov) DO UPDATE SET {_WINDOWS}) "
    "SELECT rrname_rev, rrtype, count(*) FROM up WHERE fresh GROUP BY rrname_rev, rrtype"
)
_RRSET_UPSERT = (
    f"WITH up AS (INSERT INTO rrset AS t (rrname_rev, rrname, rrtype, bailiwick, rdata, {_STATS_COLS}) "
    "SELECT * FROM stage_rrset ORDER BY 1, 3, 4, 5 "
    f"ON CONFLICT ON CONSTRAINT rrset_key DO UPDATE SET {_MERGE_TTL} "
    "RETURNING t.rrname_rev, t.rrtype, (t.xmax = 0) AS fresh) "
    "SELECT rrname_rev, rrtype, count(*) FROM up WHERE fresh GROUP BY rrname_rev, rrtype"
)
_GROUPED_UPSERT = (
    "WITH up AS (INSERT INTO {table} AS t ({cols}, time_first, time_last, count) SELECT * FROM stage_{table} "
    "ORDER BY {key} ON CONFLICT ({key}) DO UPDATE SET " + _MERGE + " "
    "RETURNING (t.xmax = 0) AS fresh) SELECT count(*) FROM up WHERE fresh"
)
_SAMPLE_UPSERT = (
    "INSERT INTO rr_sample AS t (rr_id, sha256, task_id, time_first, time_last, count) "
    "SELECT rr.id, s.sha256, s.task_id, s.tf, s.tl, s.n FROM stage_sample s JOIN rr "
    "ON rr.rrname_rev = s.rrname_rev AND rr.rrtype = s.rrtype AND rr.rdata = s.rdata ORDER BY 1, 2, 3 "
    f"ON CONFLICT (rr_id, sha256, task_id) DO UPDATE SET {_MERGE}"
)

_NAME_SAMPLE_UPSERT = (
    "INSERT INTO name_sample AS t (rrname_rev, rrname, rrtype, rcode, sha256, task_id, time_first, time_last, count) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
    f"ON CONFLICT (rrname_rev, rrtype, rcode, sha256, task_id) DO UPDATE SET {_MERGE}"
)


class PostgresApplier:
    """Owns one writing connection's transactions (one per group)."""

    keep_rollup = True  # benchmarks/ingest.py turns it off to measure what the rollup costs (never in service)
    rollup_flush_seconds = FLUSH_SECONDS  # how long rollup deltas may wait in memory (storage/rollup.py)

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], replay_window: int) -> None:
        self._connect = connect
        self._replay_window = replay_window
        self._prov: dict[ProvKey, int] = {}
        self._last_purge = 0.0
        self._has_rollup = False
        self.pending = Pending()  # rollup deltas of committed groups, not yet in the rollup tables
        self._staged: Staged | None = None  # this transaction's journal row, for ``pending`` after COMMIT

    def _rollup_ready(self, conn: psycopg.Connection[Any]) -> bool:
        """Whether migration 0011 made ``rollup_big`` (checked until it has: a writer at an older schema leaves the
        rollup to that migration's fill)."""
        if not self._has_rollup:
            self._has_rollup = _table(conn, "rollup_big")
        return self._has_rollup

    def _keep_rollup(self, conn: psycopg.Connection[Any], folded: FoldedBatch, new_rr: dict[tuple[str, int], int],
                     new_sets: dict[tuple[str, int], int]) -> None:
        """Journal the group's rollup deltas (the transaction's last statement,
        see ``postgres/journal.py``); ``pending`` gets them after COMMIT."""
        self._staged = stage_group(PgJournal(conn), self.pending, folded, new_rr, new_sets)

    def flush(self, conn: psycopg.Connection[Any]) -> None:
        """Drain the rollup journal now, in a transaction of its own (outside any ingest transaction)."""
        if not (self.pending.seqs or self.pending.candidates or self.pending.check) or not self._rollup_ready(conn):
            self.pending.check = False
            return
        self.pending.draining = True
        try:
            with conn.transaction():  # on error the journal rows stay; the next drain (next tick) decodes them
                drain(PgJournal(conn), self.pending)
        except BaseException:
            self.pending.check = True
            raise
        finally:
            self.pending.draining = False

    def drain_in(self, conn: psycopg.Connection[Any]) -> None:
        """Drain the rollup journal inside the caller's transaction (the prune, before it rebuilds names)."""
        if self._rollup_ready(conn):
            drain(PgJournal(conn), self.pending, lock=True)
            self.pending.check = True  # look again at the next tick, in case the caller rolls back

    def idle(self, conn: psycopg.Connection[Any]) -> None:
        """Between groups, or with nothing queued: drain the rollup journal when it is due."""
        due = self.pending.due(self.rollup_flush_seconds)
        if due or (self.pending.orphan_check_due() and self._rollup_ready(conn) and self._orphans(conn)):
            self.flush(conn)

    def _orphans(self, conn: Any) -> bool:
        """Whether rows of a writer that no longer drains them sit in the journal (``Pending.orphans``)."""
        return self.pending.orphans(seq for (seq,) in conn.execute("SELECT seq FROM rollup_journal"))

    def connect(self) -> psycopg.Connection[Any]:
        conn = self._connect()
        conn.execute("SET work_mem = '64MB'")
        for statement in STAGING:
            conn.execute(statement)
        return conn

    def disconnect(self, conn: psycopg.Connection[Any]) -> None:
        conn.close()

    def healthy(self, conn: psycopg.Connection[Any]) -> bool:
        """False once the server closed the connection (restart, failover, terminated backend)."""
        if conn.broken or conn.closed:
            self._prov.clear()
            return False
        return True

    def after_group(self, conn: psycopg.Connection[Any]) -> None:
        """Drain the rollup journal when due; forget batch ids older than the replay window (hourly); both
        outside ingest transactions."""
        self.idle(conn)
        now = time.time()
        if now - self._last_purge < PURGE_EVERY:
            return
        self._last_purge = now
        conn.execute("DELETE FROM batch WHERE applied_at < %s", (int(now) - self._replay_window,))

    def apply(self, conn: psycopg.Connection[Any], jobs: list[WriteJob]) -> list[WriteOutcome]:
        for attempt in range(RETRIES):
            try:
                return self._transaction(conn, jobs)
            except (errors.DeadlockDetected, errors.SerializationFailure):
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _transaction(self, conn: psycopg.Connection[Any], jobs: list[WriteJob]) -> list[WriteOutcome]:
        self._staged = None
        try:
            with conn.transaction():
                outcomes, fresh = resolve_replays(jobs, lambda refs: _claim(conn, refs))
                if fresh:
                    folded = fold_batches((job.observations for job in fresh), lambda keys: self._prov_ids(conn, keys))
                    self._apply(conn, folded, fresh)
        except BaseException:
            self._prov.clear()  # ids inserted by a rolled-back transaction are gone
            self._staged = None  # and so is its journal row
            raise
        if self._staged is not None:
            self.pending.add(*self._staged)
            self._staged = None
        return outcomes

    def _prov_ids(self, conn: psycopg.Connection[Any], keys: set[ProvKey]) -> dict[ProvKey, int]:
        for key in sorted(keys - self._prov.keys()):
            conn.execute("INSERT INTO prov (sensor, evidence, source) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", key)
            row = conn.execute(
                "SELECT id FROM prov WHERE sensor = %s AND evidence = %s AND source = %s", key
            ).fetchone()
            assert row is not None
            self._prov[key] = row[0]
        return self._prov

    def _apply(self, conn: psycopg.Connection[Any], folded: FoldedBatch, jobs: list[WriteJob]) -> None:
        new_rr = _upsert_rr(conn, folded) if folded.rr else {}
        new_sets = _upsert_rrset(conn, folded) if folded.rrset else {}
        new_by_type = _per_type(new_rr)
        new_records, new_rrsets = sum(new_rr.values()), sum(new_sets.values())
        new_neg = _upsert_grouped(conn, "negative", folded.negative) if folded.negative else 0
        new_q = _upsert_grouped(conn, "qname", folded.query) if folded.query else 0
        if folded.sample:
            _copy(conn, "stage_sample", stage_sample_rows(folded))
            conn.execute(_SAMPLE_UPSERT)
        if folded.name_sample:
            with conn.cursor() as cur:
                cur.executemany(_NAME_SAMPLE_UPSERT, sorted(stage_name_sample_rows(folded)))
        now = int(time.time())
        conn.execute(
            "INSERT INTO ingest_hourly AS t VALUES (%s, %s, %s, %s) ON CONFLICT (hour, sensor) DO UPDATE SET "
            f"observations = {saturating_add('LEAST', 't.observations', 'EXCLUDED.observations')}, "
            "new_records = t.new_records + EXCLUDED.new_records",
            (now - now % 3600, hour_sensor(jobs), folded.observations, new_records),
        )
        _add(conn, "type_count", "rrtype", "records", new_by_type)
        deltas = {
            "batches": sum(1 for j in jobs if j.batch is not None),
            "negatives": new_neg,
            "observations": folded.observations,
            "queries": new_q,
            "records": new_records,
            "rrsets": new_rrsets,
        }
        _add(conn, "counter", "name", "value", sorted((k, v) for k, v in deltas.items() if v))
        if self.keep_rollup and (folded.rr or folded.rrset) and self._rollup_ready(conn):
            self._keep_rollup(conn, folded, new_rr, new_sets)


def _table(conn: psycopg.Connection[Any], name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()
    return row is not None and row[0] is not None


def _claim(conn: psycopg.Connection[Any], refs: list[BatchRef]) -> dict[BatchKey, BatchRef]:
    """Insert the batch ids (in key order); return those applied before, with their first counts."""
    refs = sorted(refs, key=lambda r: (r.sensor, r.batch_id))
    now = int(time.time())
    claimed = conn.execute(
        "INSERT INTO batch (sensor, batch_id, applied_at, accepted, rejected) "
        "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::integer[], %s::integer[]) "
        "ON CONFLICT DO NOTHING RETURNING sensor, batch_id",
        (
            [r.sensor for r in refs],
            [r.batch_id for r in refs],
            [now] * len(refs),
            [r.accepted for r in refs],
            [r.rejected for r in refs],
        ),
    ).fetchall()
    taken = {(s, b) for s, b in claimed}
    earlier: dict[BatchKey, BatchRef] = {}
    for ref in refs:
        if (ref.sensor, ref.batch_id) in taken:
            continue
        row = conn.execute(
            "SELECT accepted, rejected FROM batch WHERE sensor = %s AND batch_id = %s", (ref.sensor, ref.batch_id)
        ).fetchone()
        assert row is not None
        earlier[(ref.sensor, ref.batch_id)] = BatchRef(ref.sensor, ref.batch_id, row[0], row[1])
    return earlier


_STATS_TYPES = ["int8", "int8", "int8", "int4", "int4", "int8", "int8", "bool"]  # tf tl n tmin tmax ztf ztl zo
STAGE_TYPES = {
    "stage_rr": ["text", "text", "int4", "text", "bytea", "text", "int4", *_STATS_TYPES],
    "stage_rrset": ["text", "text", "int4", "text", "text", *_STATS_TYPES],
    "stage_negative": ["text", "text", "int4", "text", "int4", "int8", "int8", "int8"],
    "stage_qname": ["text", "text", "int4", "int4", "int8", "int8", "int8"],
    "stage_sample": ["text", "int4", "text", "text", "text", "int8", "int8", "int8"],
}


def _copy(conn: psycopg.Connection[Any], table: str, rows: Iterable[Sequence[Any]]) -> None:
    """Binary COPY into a staging table (no text escaping on either side)."""
    with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(STAGE_TYPES[table])
        for row in rows:
            copy.write_row(row)


def _upsert_rr(conn: psycopg.Connection[Any], folded: FoldedBatch) -> dict[tuple[str, int], int]:
    """Upsert ``rr`` and ``rr_seen`` from one staging table; return new records per ``(rrname_rev, rrtype)``."""
    _copy(conn, "stage_rr", stage_rr_rows(folded.rr.items()))
    source = _RR_SOURCE_UNIQUE if folded.single_prov else _RR_SOURCE_GROUPED
    return {(rev, code): n for rev, code, n in conn.execute(_RR_UPSERT.format(source=source)).fetchall()}


def _upsert_rrset(conn: psycopg.Connection[Any], folded: FoldedBatch) -> dict[tuple[str, int], int]:
    """Upsert ``rrset``; return new RRsets per ``(rrname_rev, rrtype)``."""
    _copy(conn, "stage_rrset", stage_rrset_rows(folded.rrset.items()))
    return {(rev, code): n for rev, code, n in conn.execute(_RRSET_UPSERT).fetchall()}


def _per_type(new_rr: dict[tuple[str, int], int]) -> list[tuple[int, int]]:
    per_type: dict[int, int] = {}
    for (_, code), n in new_rr.items():
        per_type[code] = per_type.get(code, 0) + n
    return sorted(per_type.items())


def _upsert_grouped(conn: psycopg.Connection[Any], table: str, rows: dict[Any, Any]) -> int:
    _copy(conn, f"stage_{table}", stage_grouped_rows(rows))
    key = "rrname_rev, rrtype, rcode, prov" if table == "negative" else "rrname_rev, rrtype, prov"
    cols = key.replace("rrname_rev,", "rrname_rev, rrname,")
    row = conn.execute(_GROUPED_UPSERT.format(table=table, cols=cols, key=key)).fetchone()
    return int(row[0]) if row else 0


def _add(conn: psycopg.Connection[Any], table: str, key: str, column: str, deltas: list[tuple[Any, int]]) -> None:
    """Add ``deltas`` ``(key, n)`` to a counter table, in key order."""
    if deltas:
        conn.cursor().executemany(
            f"INSERT INTO {table} AS t VALUES (%s, %s) ON CONFLICT ({key}) "
            f"DO UPDATE SET {column} = {saturating_add('LEAST', f't.{column}', f'EXCLUDED.{column}')}",
            deltas,
        )
