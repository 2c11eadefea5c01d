"""Cold reads of a zone's rollup (``Store.name_rollup(zone, below=True)``, uncached) before and after the
merged read, on SQLite and PostgreSQL, interleaved in one run.

The load, written through ``Store.write`` (the writer keeps the rollup): N names below ``zone.test`` (one record
each; A, A, A, AAAA, TXT or CNAME; seen by 1-4 of 4 sensors: ~2.5 ``rr_seen`` rows per name), all of them small
(fewer than ``rollup.BIG_RECORDS`` records: read from their records), and N/4 names beside it. *Before* is the
former four-pass read (``tests/storage/rollup_reference.py``) over the same rows.

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

from tests.storage.rollup_reference import four_pass_rollup

from benchmarks.common import drop_schema, open_bench_store
from yapdns.core.model import Evidence, Observation
from yapdns.storage.base import BatchRef, Store

T0 = 1_700_000_000
CODES = (1, 1, 1, 28, 16, 5)


KINDS = (("A", lambda i: f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"),) * 3 + (
    ("AAAA", lambda i: f"2001:db8::{i >> 16:x}:{i & 0xFFFF:x}"), ("TXT", lambda i: f'"v{i}"'),
    ("CNAME", lambda i: f"t{i}.cdn.test"))


def observations(names: int) -> list[Observation]:
    """The load: one record per name below the zone, seen by 1-4 of 4 sensors, and N/4 names beside it."""
    rnd = random.Random(names)
    out = []
    for i in range(names):
        kind, rdata = rnd.choice(KINDS)
        for sensor in rnd.sample(range(1, 5), rnd.randint(1, 4)):
            first = T0 + rnd.randrange(10**6)
            out.append(Observation(rrname=f"n{i}.zone.test", rrtype=kind, rdata=(rdata(i),), time_first=first,
                                   time_last=first + rnd.randrange(10**5), count=rnd.randrange(1, 1000),
                                   sensor_id=f"s{sensor}", evidence=Evidence.DIRECT, source="zeek"))
    out.extend(Observation(rrname=f"o{i}.other.test", rrtype="A", rdata=("192.0.2.1",), time_first=T0,
                           time_last=T0 + 5, count=5, sensor_id="s1", evidence=Evidence.DIRECT, source="zeek")
               for i in range(names // 4))
    return out


def fill(store: Store, names: int) -> None:
    load = observations(names)
    for start in range(0, len(load), 50_000):
        store.write(load[start : start + 50_000], BatchRef("s", f"b{start}"))
    store.flush_rollup()  # type: ignore[attr-defined]
    if store.name == "sqlite":
        with sqlite3.connect(store.path) as conn:  # type: ignore[attr-defined]
            conn.execute("ANALYZE")
        return
    with store._pool.connection() as conn:  # type: ignore[attr-defined]
        conn.execute("ANALYZE")


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
            fill(store, names)
            before, after = measure(store, args.repeat)
            print(f"{backend:10s} {names:>7,} names: before {before:6.1f} ms, after {after:6.1f} ms "
                  f"(medians of {args.repeat})", flush=True)
            store.close()
            if backend == "postgresql":
                drop_schema(schema)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
