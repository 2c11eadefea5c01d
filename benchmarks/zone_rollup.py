"""Cold reads of a zone's rollup (``Store.name_rollup(zone, below=True)``, uncached) before and after the
merged read, on SQLite and PostgreSQL, interleaved in one run.

The load: ``name_rollup`` rows written directly (not through the writer: only the read is measured) for N names
below ``zone.test`` (one record each; A, A, A, AAAA, TXT or CNAME; seen by 1-4 of 4 sensors: ~2.5 rows per
name) and N/4 names beside it. *Before* is the former four-pass read (``tests/storage/rollup_reference.py``).

    .venv/bin/python -m benchmarks.zone_rollup --names 20000 80000 250000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from tests.storage.rollup_reference import four_pass_rollup

from benchmarks.common import PG_URL, drop_schema, open_bench_store
from yapdns.core.names import reverse_name
from yapdns.storage.base import Store

T0 = 1_700_000_000
CODES = (1, 1, 1, 28, 16, 5)


def rollup_rows(names: int) -> list[tuple[Any, ...]]:
    """The ``name_rollup`` rows of the load, in key order."""
    rnd = random.Random(names)
    rows = []
    for i in range(names):
        rev, code = reverse_name(f"n{i}.zone.test"), rnd.choice(CODES)
        for j, prov in enumerate(rnd.sample(range(1, 5), rnd.randint(1, 4))):
            first = T0 + rnd.randrange(10**6)
            rows.append((rev, code, prov, int(j == 0), int(j == 0), rnd.randrange(1, 1000), first,
                         first + rnd.randrange(10**5), None, None))
    rows.extend((reverse_name(f"o{i}.other.test"), 1, 1, 1, 1, 5, T0, T0 + 5, None, None) for i in range(names // 4))
    rows.sort()
    return rows


def fill(store: Store, backend: str, names: int, schema: str, where: Path) -> None:
    provs = [(i, f"s{i}", "direct", "zeek") for i in range(1, 5)]
    rows = rollup_rows(names)
    if backend == "sqlite":
        with sqlite3.connect(where / f"{schema}.sqlite3") as conn:
            conn.executemany("INSERT INTO prov VALUES (?, ?, ?, ?)", provs)
            conn.executemany(f"INSERT INTO name_rollup VALUES ({', '.join('?' * 10)})", rows)
            conn.execute("ANALYZE")
        return
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'SET search_path = "{schema}"')
        with conn.cursor().copy("COPY prov (id, sensor, evidence, source) FROM STDIN") as copy:
            for p in provs:
                copy.write_row(p)
        with conn.cursor().copy("COPY name_rollup FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        conn.execute("VACUUM ANALYZE name_rollup")


def timed(read: Callable[..., Any], *args: Any) -> float:
    start = time.perf_counter()
    read(*args)
    return (time.perf_counter() - start) * 1000


def measure(store: Store, repeat: int) -> tuple[float, float]:
    """Median ms of the former and the merged cold read, interleaved (after checking they agree)."""
    new = store._name_rollup  # type: ignore[attr-defined]  # uncached
    assert new("zone.test", True, 10, True) == four_pass_rollup(store, "zone.test")
    before, after = [], []
    for _ in range(repeat):
        before.append(timed(four_pass_rollup, store, "zone.test"))
        after.append(timed(new, "zone.test", True, 10, True))
    return statistics.median(before), statistics.median(after)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, nargs="+", default=[20_000, 80_000, 250_000])
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/yapdns-zone-rollup"))
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f}")
    for backend in args.backends:
        for names in args.names:
            schema = f"zone_rollup_{names}"
            store = open_bench_store(backend, args.dir, schema, fresh=True)
            fill(store, backend, names, schema, args.dir)
            before, after = measure(store, args.repeat)
            print(f"{backend:10s} {names:>7,} names: before {before:6.1f} ms, after {after:6.1f} ms "
                  f"(medians of {args.repeat})", flush=True)
            store.close()
            if backend == "postgresql":
                drop_schema(schema)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
