"""What the storage benchmarks share: opening stores, CPU accounting, percentiles, the machine."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg

from yapdns.storage.base import Store

PG_URL = os.environ.get("YAPDNS_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
APP_NAME = "yapdns-bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def pg_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}schema={schema}&application_name={APP_NAME}"


def _exit_on_sigterm() -> None:
    """SIGTERM (``timeout``, ``kill``) exits through ``atexit``, so the servers a benchmark started are stopped."""
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


_CLICKHOUSE: list[Any] = []  # the benchmark's one clickhouse-server (Debian 18.16), started on first use


def clickhouse_server() -> Any:
    """This run's ``clickhouse-server``: its own config and data directory, killed when the process exits."""
    if not _CLICKHOUSE:
        import atexit
        import tempfile

        from tests.clickhouse_servers import ClickHouseServer

        _exit_on_sigterm()
        root = Path(tempfile.mkdtemp(prefix="yapdns-bench-ch-", dir=os.environ.get("YAPDNS_BENCH_DIR")))
        server = ClickHouseServer(root)
        server.start()
        atexit.register(server.stop)
        _CLICKHOUSE.append(server)
    return _CLICKHOUSE[0]


def clickhouse_url(schema: str) -> str:
    return str(clickhouse_server().url(schema))


_SHARDS: list[Any] = []  # two more clickhouse-servers: the shards of cluster two_shards


def clickhouse_shards_url(schema: str) -> str:
    """A store URL on a two-shard cluster of this run's own servers (started on first use)."""
    if not _SHARDS:
        import atexit
        import tempfile

        from tests.clickhouse_servers import start_cluster

        _exit_on_sigterm()
        root = Path(tempfile.mkdtemp(prefix="yapdns-bench-shards-", dir=os.environ.get("YAPDNS_BENCH_DIR")))
        _SHARDS.extend(shard[0] for shard in start_cluster(root, "two_shards", shards=2, replicas=1))
        for server in _SHARDS:
            atexit.register(server.stop)
    return f"{_SHARDS[0].url(schema)}?cluster=two_shards"


def clickhouse_pids() -> list[int]:
    return [p.proc.pid for p in (*_CLICKHOUSE, *_SHARDS) if p.proc is not None]


def open_bench_store(backend: str, where: Path, schema: str, *, fresh: bool) -> Store:
    """A migrated store for the benchmark; ``fresh`` wipes what a previous run left."""
    if backend.startswith(("clickhouse", "chdb")):
        from yapdns.storage.clickhouse.store import ClickHouseStore

        urls = {
            "clickhouse": lambda: clickhouse_url(schema),
            "clickhouse-2shards": lambda: clickhouse_shards_url(schema),
            "chdb": lambda: f"chdb://{where / 'chdb'}?database={schema}",
        }
        store = ClickHouseStore(urls[backend]())
        if fresh:
            for node in store._topo.nodes:
                node.command(f"DROP DATABASE IF EXISTS {schema}")
        store.migrate()
        return store
    if backend == "sqlite":
        from yapdns.storage.sqlite.store import SqliteStore

        path = where / f"{schema}.sqlite3"
        if fresh:
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                p.unlink(missing_ok=True)
        store: Store = SqliteStore(path, cache_mb=1024)
    else:
        from yapdns.storage.postgres.store import PostgresStore

        if fresh:
            drop_schema(schema)
        store = PostgresStore(pg_url(schema))
    store.migrate()
    return store


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def pg_server_pids() -> list[int]:
    """Our benchmark backends plus the server's background writers (their CPU is ingest cost too)."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s OR backend_type IN "
            "('checkpointer', 'walwriter', 'background writer', 'autovacuum worker')",
            (APP_NAME,),
        ).fetchall()
    return [r[0] for r in rows]


def proc_cpu(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


class CpuMeter:
    """Process CPU (all threads) and the database server's CPU (PostgreSQL's processes, clickhouse-server)
    over a window."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.pids: list[int] = []

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()
        self.s0 = proc_cpu(self._server_pids())

    def _server_pids(self) -> list[int]:
        if self.backend == "postgresql":
            return pg_server_pids()
        if self.backend.startswith("clickhouse"):
            return clickhouse_pids()
        return []

    def stop(self) -> tuple[float, float, float]:
        """(wall seconds, client CPU seconds, server CPU seconds)."""
        wall = time.perf_counter() - self.t0
        client = time.process_time() - self.c0
        s1 = proc_cpu(self._server_pids())
        server = sum(v - self.s0.get(pid, 0.0) for pid, v in s1.items())
        return wall, client, server


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def calibration_ns() -> float:
    """CPU ns per iteration of a trivial Python loop: how fast this machine is right now.

    ~30-40 ns on an idle modern core; a larger figure means every CPU µs/obs below is inflated
    by the same factor (steal, throttling or cache contention from other tenants).
    """
    t = time.process_time()
    x = 0
    for i in range(2_000_000):
        x += i
    return round((time.process_time() - t) / 2_000_000 * 1e9, 1)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    model = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), "?")
    with psycopg.connect(PG_URL) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        settings = conn.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN "
            "('shared_buffers', 'max_wal_size', 'synchronous_commit', 'work_mem', 'checkpoint_timeout')"
        ).fetchall()
    import sqlite3

    return {
        "cpu": f"{model}, {os.cpu_count()} cpus",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": version[0] if version else "?",
        "pg_settings": {n: f"{s}{u or ''}" for n, s, u in settings},
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "python_loop_ns": calibration_ns(),
    }
