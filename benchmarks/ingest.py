"""Ingest benchmark: observations through ``Store.write`` as the ingest API hands them.

N observations (default 10M) are drawn Zipf-like from U unique records
(default 1M; workload.py), cut into batches of B observations, one sensor
per batch, and written by C concurrent clients (like the server's request
threads), each waiting for its commit before sending its next batch: the
store's group commit folds whatever is queued into one transaction.

Prints obs/s (wall), CPU µs per observation (this process, all threads;
plus PostgreSQL's backends and background writers), batch latency p50/p99,
database size, and verifies Σcount and the record count.

    .venv/bin/python -m benchmarks.ingest                    # 10M obs, 1M uniques, both backends
    .venv/bin/python -m benchmarks.ingest --quick            # 1M obs, 100k uniques
    .venv/bin/python -m benchmarks.ingest --backends sqlite --obs 2000000 --uniques 200000
    .venv/bin/python -m benchmarks.ingest --backends sqlite,postgresql,clickhouse   # side by side, with ratios
    .venv/bin/python -m benchmarks.ingest --quick --rollup both --rounds 3   # what the per-name rollup costs
    .venv/bin/python -m benchmarks.ingest --quick --backends clickhouse --merged   # bytes per table, merged

``--rollup both`` writes the same batches with the SQL writers' per-name rollup off and on (``keep_rollup``,
storage/rollup.py), alternating, ``--rounds`` times each, and prints the median cost of keeping it.

ClickHouse runs on a ``clickhouse-server`` (Debian 18.16) that the benchmark starts on loopback with its own
directory (``benchmarks/common.py``); its CPU is counted as the server's. ``chdb`` (in-process) works too.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.common import PG_URL, CpuMeter, drop_schema, machine, open_bench_store, percentile
from benchmarks.workload import Universe, check_canonical, observation_batches
from yapdns.core.model import Observation
from yapdns.storage.base import BatchRef, Store
from yapdns.storage.sqlite.writer import SqliteApplier


def run_clients(stores: list[Store], batches: list[list[Observation]], clients: int) -> list[float]:
    """Write every batch from ``clients`` threads, client i through ``stores[i % len(stores)]`` (several stores on
    one database: like several server processes); return each write's latency in seconds."""
    latencies: list[float] = []
    lock = threading.Lock()
    nxt = iter(range(len(batches)))

    def client() -> None:
        while True:
            with lock:
                b = next(nxt, None)
            if b is None:
                return
            t = time.perf_counter()
            stores[b % len(stores)].write(batches[b], BatchRef(f"sensor{b % 4}", f"bench-{b}", len(batches[b]), 0))
            with lock:
                latencies.append(time.perf_counter() - t)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def verify(backend: str, store: Store, where: Path, schema: str, n_obs: int, n_records: int) -> dict[str, Any]:
    """Σcount over RRsets (each observation lands in exactly one) and the record count."""
    stats = store.stats()
    query = "SELECT sum(count), (SELECT count(*) FROM rr), (SELECT sum(count) FROM rr) FROM rrset"
    if backend.startswith(("clickhouse", "chdb")):
        row = clickhouse_sums(store)
    elif backend == "sqlite":
        with sqlite3.connect(where / f"{schema}.sqlite3") as conn:
            row = conn.execute(query).fetchone()
    else:
        with psycopg.connect(PG_URL) as conn:
            conn.execute(f"SET search_path TO {schema}")
            row = conn.execute(query).fetchone()
    assert row is not None
    ok = int(row[0]) == n_obs == int(row[2]) == stats.observations and int(row[1]) == n_records == stats.records
    return {"sum_count": int(row[0]), "records": int(row[1]), "verified": ok, "size_mb": (stats.size_bytes or 0) / 1e6}


def rollup_sums(store: Store) -> tuple[int, int, int]:
    """Σcount over ``name_rollup``, Σcount over its rows of known provenances, and Σrecords (after the drain)."""
    rows = store._rows  # type: ignore[attr-defined]
    ((names, records),) = rows("SELECT sum(count), sum(records) FROM name_rollup")
    ((seen,),) = rows("SELECT sum(r.count) FROM name_rollup r JOIN prov p ON p.id = r.prov")
    return int(names), int(seen), int(records)


def clickhouse_sums(store: Store) -> tuple[int, int, int]:
    """Σcount over RRsets, the record count and Σcount over records of a ClickHouse store."""
    from yapdns.storage.clickhouse.select import count

    rows = store._rows  # type: ignore[attr-defined]
    db = store.db  # type: ignore[attr-defined]
    ((hi, lo),) = rows(f"SELECT sumMerge(nhi), sumMerge(nlo) FROM {db}.entry WHERE kind = 2")
    ((rhi, rlo),) = rows(f"SELECT sumMerge(nhi), sumMerge(nlo) FROM {db}.entry WHERE kind = 1")
    return count(hi, lo), store.stats().records, count(rhi, rlo)


def merged_bytes(store: Store, records: int) -> dict[str, Any]:
    """``OPTIMIZE ... FINAL`` on every table of a ClickHouse store (what background merges converge to), then
    bytes per record on disk per table (``system.parts``) and its three biggest columns (``system.columns``)."""
    db = store.db  # type: ignore[attr-defined]
    nodes = store._topo.nodes  # type: ignore[attr-defined]
    tables: dict[str, float] = {}
    columns: dict[str, dict[str, float]] = {}
    for node in nodes:
        found = node.rows(
            "SELECT name FROM system.tables WHERE database = %(db)s AND engine LIKE '%%MergeTree'", {"db": db}
        )
        for (table,) in found:
            node.command(f"OPTIMIZE TABLE {db}.{table} FINAL")
        for table, size in node.rows(
            "SELECT table, sum(bytes) FROM system.parts WHERE database = %(db)s AND active GROUP BY table",
            {"db": db},
        ):
            tables[table] = tables.get(table, 0.0) + int(size) / records
        for table, column, size in node.rows(
            "SELECT table, name, data_compressed_bytes FROM system.columns WHERE database = %(db)s", {"db": db}
        ):
            per = columns.setdefault(table, {})
            per[column] = per.get(column, 0.0) + int(size) / records
    out: dict[str, Any] = {"all": round(sum(tables.values()), 1)}
    for table, size in sorted(tables.items(), key=lambda kv: -kv[1]):
        if size >= 0.05:
            top = sorted(columns.get(table, {}).items(), key=lambda kv: -kv[1])[:3]
            out[table] = {"bytes": round(size, 1), **{c: round(v, 1) for c, v in top}}
    return out


def keep_rollup(on: bool, flush_seconds: float | None = None) -> None:
    """Turn the SQL writers' per-name rollup on or off, and set how long its deltas may wait in memory (for
    stores opened after this call)."""
    from yapdns.storage.postgres.writer import PostgresApplier
    from yapdns.storage.sqlite.writer import SqliteApplier

    for applier in (SqliteApplier, PostgresApplier):
        applier.keep_rollup = on
        if flush_seconds is not None:
            applier.rollup_flush_seconds = flush_seconds


def bench(backend: str, batches: list[list[Observation]], args: argparse.Namespace, where: Path) -> dict[str, Any]:
    schema = f"yapdns_bench_ingest_{backend.replace('-', '_')}_{os.getpid()}"  # concurrent runs never clash
    store = open_bench_store(backend, where, schema, fresh=True)
    writers = [store] + [open_bench_store(backend, where, schema, fresh=False) for _ in range(args.writers - 1)]
    meter = CpuMeter(backend)
    meter.start()
    latencies = run_clients(writers, batches, args.clients)
    for writer in writers:  # the rollup's pending deltas are part of the cost: drained inside the measurement
        flush = getattr(writer, "flush_rollup", None)
        if flush is not None:
            flush()
    wall, client_cpu, server_cpu = meter.stop()
    n_obs = sum(len(b) for b in batches)
    result = {
        "backend": backend,
        "obs": n_obs,
        "batch": args.batch,
        "clients": args.clients,
        "obs_per_s": round(n_obs / wall),
        "cpu_us_per_obs": round((client_cpu + server_cpu) / n_obs * 1e6, 2),
        "client_cpu_us": round(client_cpu / n_obs * 1e6, 2),
        "server_cpu_us": round(server_cpu / n_obs * 1e6, 2),
        "batch_p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "batch_p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "wall_s": round(wall, 1),
    }
    result["writers"] = args.writers
    result.update(verify(backend, store, where, schema, n_obs, min(args.uniques, n_obs)))
    if args.merged and backend.startswith(("clickhouse", "chdb")):
        result["merged"] = merged_bytes(store, result["records"])
    if not backend.startswith(("clickhouse", "chdb")) and SqliteApplier.keep_rollup:
        result["rollup_verified"] = rollup_sums(store) == (n_obs, n_obs, min(args.uniques, n_obs))
    for writer in writers:
        writer.close()
    if backend == "sqlite":  # after close: the WAL has been checkpointed into the file
        result["size_mb"] = (where / f"{schema}.sqlite3").stat().st_size / 1e6
    elif backend.startswith(("clickhouse", "chdb")):
        pass  # a fresh run drops the database first; the server's directory goes when the benchmark exits
    else:  # the SQLite file goes with the temporary directory; the schema would stay in the shared database
        drop_schema(schema)
    result["size_mb"] = round(result["size_mb"], 1)
    result["bytes_per_record"] = round(result["size_mb"] * 1e6 / max(result["records"], 1), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--obs", type=int, default=10_000_000)
    parser.add_argument("--uniques", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000, help="observations per ingest request")
    parser.add_argument("--clients", type=int, default=8, help="concurrent writers (request threads)")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="any of sqlite, postgresql, clickhouse, clickhouse-2shards, chdb")
    parser.add_argument("--writers", type=int, default=1, help="stores (writer threads) on the one database")
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite file goes (default: a temp dir)")
    parser.add_argument("--quick", action="store_true", help="1M observations from 100k uniques")
    parser.add_argument("--json", type=Path, default=None, help="also append results as JSON lines here")
    parser.add_argument("--merged", action="store_true",
                        help="ClickHouse: OPTIMIZE FINAL after the run and print bytes per record per table")
    parser.add_argument("--rollup", choices=("on", "off", "both"), default="on",
                        help="the SQL writers' per-name rollup; both: off and on alternately, with the cost")
    parser.add_argument("--rounds", type=int, default=1, help="with --rollup both: runs of each")
    parser.add_argument("--rollup-flush", type=float, default=None,
                        help="seconds the rollup's deltas may wait in memory (default: the store's, 1 s)")
    args = parser.parse_args()
    if args.quick:
        args.obs, args.uniques = 1_000_000, 100_000
    print(json.dumps({"machine": machine()}))
    universe = Universe(args.uniques)
    check_canonical(universe)
    t = time.perf_counter()
    batches = [obs for _, obs in observation_batches(universe, args.obs, args.batch)]
    print(f"# generated {args.obs:,} observations in {time.perf_counter() - t:.1f}s (not timed)", flush=True)
    if args.dir:
        Path(args.dir).mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="yapdns-bench-", dir=args.dir) as tmp:
        variants = [False, True] * args.rounds if args.rollup == "both" else [args.rollup == "on"]
        for backend in args.backends.split(","):
            for rollup in variants:
                keep_rollup(rollup, args.rollup_flush)
                result = bench(backend, batches, args, Path(tmp))
                result["rollup"] = rollup
                result["rollup_flush_s"] = args.rollup_flush
                results.append(result)
                result["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
                line = json.dumps(result)
                print(line, flush=True)
                if args.json:
                    with args.json.open("a") as fh:
                        fh.write(line + "\n")
    keep_rollup(True)
    if args.rollup == "both":
        print_rollup_cost(results)
    else:
        print_ratios(results)


def print_rollup_cost(results: list[dict[str, Any]]) -> None:
    """Per backend: median obs/s and CPU per observation with the rollup over without it."""
    for backend in dict.fromkeys(r["backend"] for r in results):
        def median(key: str, on: bool, backend: str = backend) -> float:
            return statistics.median(r[key] for r in results if r["backend"] == backend and r["rollup"] == on)

        cost = {
            "obs_per_s_off": median("obs_per_s", False),
            "obs_per_s_on": median("obs_per_s", True),
            "wall_cost_pct": round((median("obs_per_s", False) / median("obs_per_s", True) - 1) * 100, 1),
            "cpu_cost_pct": round((median("cpu_us_per_obs", True) / median("cpu_us_per_obs", False) - 1) * 100, 1),
        }
        print(json.dumps({"rollup_cost": backend, **cost}), flush=True)


def print_ratios(results: list[dict[str, Any]]) -> None:
    """Each backend against the first: wall obs/s, CPU per observation, bytes per record."""
    if len(results) < 2:
        return
    base = results[0]
    for r in results[1:]:
        ratios = {
            "obs_per_s": round(r["obs_per_s"] / base["obs_per_s"], 2),
            "cpu_us_per_obs": round(r["cpu_us_per_obs"] / base["cpu_us_per_obs"], 2),
            "bytes_per_record": round(r["size_mb"] / base["size_mb"], 2) if base["size_mb"] else None,
        }
        print(json.dumps({"ratio": f"{r['backend']}/{base['backend']}", **ratios}), flush=True)


if __name__ == "__main__":
    main()
