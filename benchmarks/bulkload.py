"""Bulk-building a large record store for the query benchmark (not the ingest path).

``Store.write`` is what ingest measures; a 10M-record store for query
latency is built faster by loading ``rr``/``rr_seen`` directly into the
migrated schema with secondary indexes dropped, then recreating them from
the migration itself. Records come from ``workload.Universe``; each gets
random first/last times over 30 days and one of four sensors. The build is
recorded in ``counter`` (``bench_records``) so a later run reuses it.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from benchmarks.common import PG_URL, open_bench_store
from benchmarks.workload import SPAN, T0, Universe
from yapdns.core.model import Observation
from yapdns.core.names import reverse_name
from yapdns.core.rdata import ip_key, target_name
from yapdns.core.rrtypes import rrtype_code, rrtype_text
from yapdns.storage.base import Store
from yapdns.storage.migrations import available

SENSORS = 4
_INDEX = re.compile(r"CREATE INDEX (rr_\w+) ON rr [^;]*;")


def rows(universe: Universe, seed: int = 3) -> Iterator[tuple[Any, ...]]:
    """``(id, rrname_rev, rrname, rrtype, rdata, ip, target_rev, tf, tl, count, ttl, prov)``."""
    rng = np.random.default_rng(seed)
    first = (T0 + rng.random(universe.n) * SPAN).astype(np.int64).tolist()
    stay = rng.random(universe.n).tolist()
    counts = (rng.pareto(1.2, universe.n) + 1).astype(np.int64).tolist()
    ttls = universe.ttl.tolist()
    for i in range(universe.n):
        name, kind, rdata = universe.record(i)
        code = rrtype_code(kind)
        target = target_name(code, rdata)
        tf = first[i]
        tl = tf + int(stay[i] * (T0 + SPAN - tf))
        yield (i + 1, reverse_name(name), name, code, rdata, ip_key(code, rdata),
               reverse_name(target) if target else None, tf, tl, counts[i], ttls[i], 1 + i % SENSORS)


def secondary_indexes(package: str) -> list[tuple[str, str]]:
    """``(name, CREATE INDEX statement)`` of the rr table's secondary indexes, from the migrations."""
    text = "\n".join(sql for _, _, sql in available(package))
    dropped = set(re.findall(r"DROP INDEX (rr_\w+);", text))  # replaced by a later migration
    return [(m.group(1), m.group(0).rstrip(";")) for m in _INDEX.finditer(text) if m.group(1) not in dropped]


def built(backend: str, where: Path, schema: str) -> int:
    """How many records a previous build left (0 if none)."""
    if backend.startswith(("clickhouse", "chdb")):  # the benchmark's ClickHouse lives as long as the run
        return 0
    try:
        if backend == "sqlite":
            with sqlite3.connect(where / f"{schema}.sqlite3") as conn:
                row = conn.execute("SELECT value FROM counter WHERE name = 'bench_records'").fetchone()
        else:
            with psycopg.connect(PG_URL) as conn:
                conn.execute(f"SET search_path TO {schema}")
                row = conn.execute("SELECT value FROM counter WHERE name = 'bench_records'").fetchone()
    except (sqlite3.Error, psycopg.Error):
        return 0
    return int(row[0]) if row else 0


def build(backend: str, where: Path, schema: str, universe: Universe) -> float:
    """Build the store from scratch; return seconds taken."""
    t = time.perf_counter()
    store = open_bench_store(backend, where, schema, fresh=True)
    if backend.startswith(("clickhouse", "chdb")):
        _build_clickhouse(store, universe)
        return time.perf_counter() - t
    store.close()
    if backend == "sqlite":
        _build_sqlite(where / f"{schema}.sqlite3", universe)
    else:
        _build_pg(schema, universe)
    return time.perf_counter() - t


def _build_clickhouse(store: Store, universe: Universe, batch: int = 200_000) -> None:
    """ClickHouse has no index to drop: the records go in through ``Store.write``, one observation each."""
    chunk: list[Observation] = []
    for _, _, name, code, rdata, _, _, tf, tl, count, ttl, prov in rows(universe):
        chunk.append(
            Observation(rrname=name, rrtype=rrtype_text(code), rdata=(rdata,), time_first=tf, time_last=tl,
                        count=count, ttl=ttl, sensor_id=f"sensor{prov}")
        )
        if len(chunk) == batch:
            store.write(chunk)
            chunk = []
    if chunk:
        store.write(chunk)
    store.close()


def _build_sqlite(path: Path, universe: Universe) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-2000000")
    indexes = secondary_indexes("yapdns.storage.sqlite")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO prov (id, sensor, evidence, source) VALUES (?, ?, 'direct', 'zeek')",
                     [(p, f"sensor{p - 1}") for p in range(1, SENSORS + 1)])
    conn.execute("CREATE TEMP TABLE load (id, rrname_rev, rrname, rrtype, rdata, ip, target_rev, tf, tl, n, ttl, prov)")
    conn.executemany("INSERT INTO load VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows(universe))
    conn.execute(
        "INSERT INTO rr (id, rrname_rev, rrname, rrtype, rdata, ip, target_rev, time_first, time_last, count, "
        "ttl_min, ttl_max) SELECT id, rrname_rev, rrname, rrtype, rdata, ip, target_rev, tf, tl, n, ttl, ttl "
        "FROM load ORDER BY rrname_rev, rrtype, rdata"
    )
    conn.execute("INSERT INTO rr_seen SELECT id, prov, tf, tl, n FROM load ORDER BY id")
    conn.execute("DROP TABLE load")
    for _, create in indexes:
        conn.execute(create)
    _counters(conn, universe.n, "?")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


def _build_pg(schema: str, universe: Universe) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {schema}")
        conn.execute("SET maintenance_work_mem = '1GB'")
        indexes = secondary_indexes("yapdns.storage.postgres")
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        conn.execute("ALTER TABLE rr DROP CONSTRAINT rr_key")
        conn.execute("ALTER TABLE rr_seen DROP CONSTRAINT rr_seen_pkey")
        conn.execute("INSERT INTO prov (id, sensor, evidence, source) SELECT p, 'sensor' || (p - 1), 'direct', 'zeek' "
                     f"FROM generate_series(1, {SENSORS}) p")
        copy_sql = (
            "COPY rr (id, rrname_rev, rrname, rrtype, rdata, ip, target_rev, time_first, time_last, "
            "count, ttl_min, ttl_max) FROM STDIN"
        )
        with conn.cursor() as cur, cur.copy(copy_sql) as copy:
            for r in rows(universe):
                copy.write_row((*r[:10], r[10], r[10]))
        conn.execute(f"INSERT INTO rr_seen SELECT id, 1 + (id - 1) % {SENSORS}, time_first, time_last, count FROM rr")
        conn.execute("ALTER TABLE rr ADD CONSTRAINT rr_key UNIQUE (rrname_rev, rrtype, rdata_hash)")  # 0005
        conn.execute("ALTER TABLE rr_seen ADD PRIMARY KEY (rr_id, prov)")
        for _, create in indexes:
            conn.execute(create)
        conn.execute(f"SELECT setval(pg_get_serial_sequence('rr', 'id'), {universe.n})")
        _counters(conn, universe.n, "%s")
        conn.execute("VACUUM ANALYZE rr")
        conn.execute("VACUUM ANALYZE rr_seen")


def _counters(conn: Any, n: int, ph: str) -> None:
    for name in ("records", "bench_records"):
        conn.execute(f"INSERT INTO counter (name, value) VALUES ({ph}, {ph})", (name, n))
