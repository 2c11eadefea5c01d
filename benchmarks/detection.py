"""Detection benchmark: the ingest cost of live watchlist matching, in one run of one build.

The same observations (workload.py, Zipf-like) are written through
``IngestService`` twice into fresh SQLite stores, by C concurrent clients:
once with no after-commit hook, once with the live matching hook
(``detection.live.match_after_commit``) over a watchlist of E entries
(default 10,000: 40 % exact names, 20 % ``*.domain``, 30 % IPv4 /32 and
/24, 10 % IPv6 /48; plus R regexes, default 0) that matches a few records
of the workload, so alerts are written too. The order alternates over
``--rounds`` to share the machine's noise. Prints obs/s of each and the
loss in per cent.

    .venv/bin/python -m benchmarks.detection --quick
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine, open_bench_store
from benchmarks.ingest import run_clients
from benchmarks.workload import Universe, observation_batches
from yapdns.core.batch import DecodedBatch
from yapdns.core.model import Observation
from yapdns.ingest import AfterCommit, IngestService
from yapdns.storage.base import BatchRef


def setup_django(tmp: Path) -> None:
    os.environ["YAPDNS_DATA_DIR"] = str(tmp)
    os.environ.setdefault("YAPDNS_SECRET_KEY", "benchmark-only")
    from yapdns.server.setup import migrate_app, setup_django

    setup_django()
    migrate_app(verbosity=0)


def watchlist(universe: Universe, entries: int, regexes: int) -> int:
    """Store ``entries`` entries (a few of them hit the workload) and return how many were stored."""
    from yapdns.server.detection.indicators import IndicatorSpec
    from yapdns.server.detection.services import add_entries

    specs = []
    for i in range(entries):
        share = i % 10
        if share < 4:
            specs.append(IndicatorSpec("name", f"host{i}.watched{i % 997}.example"))
        elif share < 6:
            specs.append(IndicatorSpec("name", f"*.watched-zone{i}.example"))
        elif share < 9:
            specs.append(IndicatorSpec("ip", f"100.{(i >> 8) % 64 + 64}.{i % 256}.{'0/24' if i % 2 else '1/32'}"))
        else:
            specs.append(IndicatorSpec("ip", f"fd{i % 256:02x}:{i:x}::/48"))
    hits = [universe.record(i) for i in range(0, 200, 10)]  # names the workload does contain
    specs += [IndicatorSpec("name", name) for name, _, _ in hits]
    specs += [IndicatorSpec("regex", f"^zz{k}[0-9]+-dga\\.") for k in range(regexes)]
    return len(add_entries(specs, None, "bench"))


def ingest(
    batches: list[list[Observation]], hooks: tuple[AfterCommit, ...], where: Path, name: str, clients: int
) -> float:
    store = open_bench_store("sqlite", where, name, fresh=True)
    service = IngestService(store, hooks)

    class Adapter:  # run_clients calls store.write(batch, ref): route it through the ingest service
        def write(self, observations: list[Observation], ref: BatchRef) -> None:
            service.submit(ref.sensor, DecodedBatch(ref.batch_id, observations, []))

    t = time.perf_counter()
    run_clients(Adapter(), batches, clients)  # type: ignore[arg-type]
    wall = time.perf_counter() - t
    store.close()
    return sum(len(b) for b in batches) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--obs", type=int, default=2_000_000)
    parser.add_argument("--uniques", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--regexes", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="500k observations from 50k uniques, one round")
    args = parser.parse_args()
    if args.quick:
        args.obs, args.uniques, args.rounds = 500_000, 50_000, 1
    print(json.dumps({"machine": machine(), "loadavg": Path("/proc/loadavg").read_text().split()[:3]}))
    with tempfile.TemporaryDirectory(prefix="yapdns-bench-detect-") as tmp:
        where = Path(tmp)
        setup_django(where)
        from yapdns.server.detection import live
        from yapdns.server.detection.models import Alert

        universe = Universe(args.uniques)
        batches = [obs for _, obs in observation_batches(universe, args.obs, args.batch)]
        stored = watchlist(universe, args.entries, args.regexes)
        rates: dict[str, list[float]] = {"off": [], "on": []}
        for r in range(args.rounds):
            for mode in (("off", "on") if r % 2 == 0 else ("on", "off")):
                hooks = (live.match_after_commit,) if mode == "on" else ()
                rates[mode].append(ingest(batches, hooks, where, f"bench_{mode}_{r}", args.clients))
                print(json.dumps({"round": r, "matching": mode, "obs_per_s": round(rates[mode][-1])}), flush=True)
        off, on = (sum(v) / len(v) for v in (rates["off"], rates["on"]))
        print(json.dumps({
            "obs": args.obs, "batch": args.batch, "clients": args.clients, "entries": stored,
            "regexes": args.regexes, "alerts": Alert.objects.count(), "match_failures": live.MatchStats.failures,
            "obs_per_s_off": round(off), "obs_per_s_on": round(on), "loss_pct": round(100 * (1 - on / off), 1),
            "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        }))


if __name__ == "__main__":
    main()
