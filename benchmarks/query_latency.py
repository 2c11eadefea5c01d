"""Query latency: p50/p99 of every query shape through ``Store.records`` on a large store.

The store (default 10M records, ``bulkload.py``) is built once per backend
and reused by later runs (``--rebuild`` forces a new build). Each shape runs
``--queries`` different parameters drawn from the workload (seeded), one
warm-up pass, then a measured pass; rows are what the first page returned
(``--limit``, default 1000), materialized as ``Record`` objects.

    .venv/bin/python -m benchmarks.query_latency                 # 10M records, both backends
    .venv/bin/python -m benchmarks.query_latency --quick         # 1M records
    .venv/bin/python -m benchmarks.query_latency --backends sqlite,postgresql,clickhouse   # side by side
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import bulkload
from benchmarks.common import machine, open_bench_store, percentile
from benchmarks.workload import SPAN, T0, WORDS, Universe, ipv4_of_24, ipv6_of_48
from yapdns.storage.base import Store
from yapdns.storage.query import IpRange, NameMatch, RecordQuery, TimeFence

FENCE = TimeFence(last_after=T0 + 23 * 86400, first_before=T0 + 25 * 86400)
Build = Callable[[Any], RecordQuery]


def shapes(universe: Universe, n: int, limit: int) -> dict[str, list[RecordQuery]]:
    """Query parameters per shape, drawn from what the store holds."""
    rnd = random.Random(11)
    picks = [rnd.randrange(universe.n) for _ in range(n * 20)]
    recs = [universe.record(i) for i in picks]
    sizes = np.bincount(universe.domain_idx, minlength=universe.n_domains)
    mid = [d for d in range(universe.n_domains) if 60 <= sizes[d] <= 150] or list(range(universe.n_domains))
    wild = [universe.domains[rnd.choice(mid)] for _ in range(n)]
    ips = [r[2] for r in recs if r[1] in ("A", "AAAA")][:n]
    used24 = sorted(set(universe.p24[:200_000].tolist()))
    nets24 = [ipv4_of_24(rnd.choice(used24)) + ".0/24" for _ in range(n)]
    nets16 = [".".join(ipv4_of_24(rnd.choice(used24)).split(".")[:2]) + ".0.0/16" for _ in range(n)]
    nets48 = [ipv6_of_48(rnd.randrange(universe.n48)) + "::/48" for _ in range(n)]
    targets = [r[2].split(" ")[-1] for r in recs if r[1] in ("CNAME", "NS", "MX")][:n]
    prefixes = [f"{r[0].rsplit('.', 1)[0]}.*" for r in recs[:n]]
    base: dict[str, list[RecordQuery]] = {
        "exact_name": [RecordQuery(rrname=NameMatch.parse(r[0]), limit=limit) for r in recs[:n]],
        "wildcard_left": [RecordQuery(rrname=NameMatch.parse(f"*.{d}"), limit=limit) for d in wild],
        "wildcard_right": [RecordQuery(rrname=NameMatch.parse(p), limit=limit) for p in prefixes],
        "exact_ip": [RecordQuery(rdata_ip=IpRange.parse(ip), limit=limit) for ip in ips],
        "cidr24": [RecordQuery(rdata_ip=IpRange.parse(c), limit=limit) for c in nets24],
        "cidr16": [RecordQuery(rdata_ip=IpRange.parse(c), limit=limit) for c in nets16],
        "cidr6_48": [RecordQuery(rdata_ip=IpRange.parse(c), limit=limit) for c in nets48],
        "rdata_name": [RecordQuery(rdata_name=NameMatch.parse(t), limit=limit) for t in targets],
    }
    out: dict[str, list[RecordQuery]] = {}
    for name, queries in base.items():
        out[name] = queries
        out[name + "+fence"] = [_with(q, fence=FENCE) for q in queries]
    out["wildcard_left+sensor"] = [_with(q, sensor="sensor1") for q in base["wildcard_left"]]
    out["cidr24+sensor"] = [_with(q, sensor="sensor1") for q in base["cidr24"]]
    assert WORDS and SPAN  # the workload's shape is what these parameters assume
    return out


def _with(q: RecordQuery, **changes: Any) -> RecordQuery:
    fields = {f: getattr(q, f) for f in q.__struct_fields__}
    return RecordQuery(**{**fields, **changes})


def measure(store: Store, queries: list[RecordQuery]) -> dict[str, Any]:
    for q in queries:  # warm-up pass
        store.records(q)
    times, rows = [], []
    for q in queries:
        t = time.perf_counter()
        page = store.records(q)
        times.append(time.perf_counter() - t)
        rows.append(len(page.rows))
    return {
        "p50_ms": round(percentile(times, 50) * 1000, 3),
        "p99_ms": round(percentile(times, 99) * 1000, 3),
        "rows_p50": percentile([float(r) for r in rows], 50),
        "rows_max": max(rows),
        "n": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--dir", type=Path, default=Path("benchmarks/results"), help="where the SQLite store lives")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--quick", action="store_true", help="1M records, 100 queries per shape")
    args = parser.parse_args()
    if args.quick:
        args.records, args.queries = 1_000_000, 100
    args.dir.mkdir(parents=True, exist_ok=True)
    print(json.dumps({"machine": machine()}), flush=True)
    universe = Universe(args.records)
    params = shapes(universe, args.queries, args.limit)
    for backend in args.backends.split(","):
        schema = f"yapdns_bench_query_{args.records}"
        if args.rebuild or bulkload.built(backend, args.dir, schema) != args.records:
            seconds = bulkload.build(backend, args.dir, schema, universe)
            print(f"# built {args.records:,} {backend} records in {seconds:.0f}s", flush=True)
        store = open_bench_store(backend, args.dir, schema, fresh=False)
        for shape, queries in params.items():
            result = {"backend": backend, "records": args.records, "shape": shape, **measure(store, queries)}
            print(json.dumps(result), flush=True)
        size = store.stats().size_bytes or 0
        print(json.dumps({"backend": backend, "size_mb": round(size / 1e6, 1),
                          "bytes_per_record": round(size / args.records, 1),
                          "loadavg": Path("/proc/loadavg").read_text().split()[:3]}), flush=True)
        store.close()


if __name__ == "__main__":
    main()
