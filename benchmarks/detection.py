"""Detection benchmark: the ingest cost of live watchlist matching and of NOD, in one run of one build.

The same observations (workload.py, Zipf-like) are written through
``IngestService`` into fresh SQLite stores, by C concurrent clients, in
each mode of ``--modes``:

* ``off``: no after-commit hook, nobody reading NOD;
* ``match``: the live matching hook (``detection.live.live_matching``)
  over a watchlist of E entries (default 10,000: 40 % exact names, 20 %
  ``*.domain``, 30 % IPv4 /32 and /24, 10 % IPv6 /48; plus R regexes,
  default 0) that matches a few records of the workload, so matches are kept
  and folded into alerts too, by the folding thread ``yapdns serve`` runs
  (``detection.live.Folder``, every ``YAPDNS_MATCH_FOLD_INTERVAL`` seconds;
  its last fold, after the clients finished, is in the time);
* ``match-in-request``: ``match``, but each request keeps its own
  matches after the commit, as builds before the store's writer kept them
  (``KeepInRequest``): what keeping them in the writer's thread saves;
* ``nod``: no hook, but a NOD stream reader following the store during the
  ingest (``detection.nod.scan`` from its cursor, once a second), as a SIEM
  would;
* ``asn``: ``match`` plus A ``asn`` entries (default 100, none of them the
  workload's ASes, so the cost is the lookups, not alert writes) with an MMDB
  written here (mmdb-writer) that puts each of the workload's IPv4 /8s in
  an AS: every new address costs a kept-context read (the fresh store has
  none, as at first sight) and an MMDB lookup (``detection.asnmatch``).

The order of modes rotates over ``--rounds`` to share the machine's noise.
Prints obs/s of each mode and its loss against ``off`` in per cent, and the
same per CPU second of this process (``obs_per_cpu_s``, ``cpu_loss_pct``: every
thread's CPU time, the writer's, the clients', the folding thread's and the NOD
reader's), which other processes on a loaded machine disturb far less than
the wall-clock rate. Where the CPU went is printed too, per mode (the mean of
its rounds): ``cpu_s_<mode>``, CPU seconds of a round by thread (``writer``:
the store's writer; ``checkpoint``; ``clients``: the request threads, with
what they do after the commit; ``matcher``: the matcher thread; ``folder``;
``nod``: the NOD reader), and ``groups_<mode>``, the transactions the writer
committed a round (a request that comes back late misses a group: more,
smaller groups cost the writer more). ``matcher_us_per_obs_*`` is the
matcher alone over the same observations in one thread (the compiled
watchlist of ``match``), cold (nothing remembered) and warm.

    .venv/bin/python -m benchmarks.detection --quick
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Self

from benchmarks.common import machine, open_bench_store
from benchmarks.ingest import run_clients
from benchmarks.workload import Universe, observation_batches
from yapdns.core.batch import DecodedBatch
from yapdns.core.model import Observation
from yapdns.ingest import AfterCommit, IngestService
from yapdns.storage.base import BatchRef, Store, Then, WriteOutcome

if TYPE_CHECKING:
    from yapdns.server.detection.live import Folder, LiveMatching


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


def asn_mmdb(where: Path) -> Path:
    """An MMDB putting each IPv4 /8 the workload uses (11-210) in its own AS (AS64512 + i)."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="bench-ASN", ipv4_compatible=True)
    for i, first in enumerate(range(11, 211)):
        record = {"autonomous_system_number": 64512 + i, "autonomous_system_organization": f"BENCH-{i}"}
        writer.insert_network(IPSet([f"{first}.0.0.0/8"]), record)
    path = where / "bench-asn.mmdb"
    writer.to_db_file(str(path))
    return path


def asn_entries(count: int) -> list[int]:
    """Store ``count`` asn entries no workload address is in; their ids."""
    from yapdns.server.detection.indicators import IndicatorSpec
    from yapdns.server.detection.services import add_entries

    return [e.pk for e in add_entries([IndicatorSpec("asn", f"AS{4_200_000_000 + i}") for i in range(count)],
                                      None, "bench")]


def asn_lookup_cost(batches: list[list[Observation]], mmdb: Path, where: Path, entries: int) -> dict[str, float]:
    """µs per A/AAAA address of ``asn_hits`` alone, cold (every address new: a context read and an MMDB lookup)
    then warm (cached), over a store holding the workload without context."""
    from yapdns.enrich.mmdb import MmdbDataset
    from yapdns.server.detection.asnmatch import AsnResolver, asn_hits
    from yapdns.server.detection.matching import EntryRule, WatchlistMatcher

    store = open_bench_store("sqlite", where, "bench_asn_cost", fresh=True)
    matcher = WatchlistMatcher(EntryRule(i, "asn", f"AS{4_200_000_000 + i}") for i in range(entries))
    resolver = AsnResolver(lambda: store, [MmdbDataset(mmdb)])
    addresses = sum(len(o.rdata) for b in batches for o in b if o.rrtype in ("A", "AAAA"))
    found: dict[str, float] = {}
    for label in ("cold", "warm"):
        t = time.perf_counter()
        for batch in batches:
            asn_hits(matcher, batch, resolver)
        found[f"asn_us_per_address_{label}"] = round(1e6 * (time.perf_counter() - t) / max(1, addresses), 2)
    store.close()
    return found


class ThreadCpu:
    """CPU seconds of this process's threads while it runs, by role (from /proc/self/task every 100 ms; Linux)."""

    ROLES = (("yapdns-sqlite-writer", "writer"), ("yapdns-sqlite-checkpoint", "checkpoint"),
             ("yapdns-matcher", "matcher"), ("yapdns-alert-folder", "folder"), ("nod-follower", "nod"),
             ("client", "clients"))

    def __init__(self) -> None:
        self._first: dict[int, float] = {}
        self._last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> Self:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    def _sample(self) -> None:
        for thread in threading.enumerate():
            tid = thread.native_id
            try:
                fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):  # ended meanwhile
                continue
            if tid is not None:
                cpu = (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime
                self._first.setdefault(tid, cpu)
                self._last[tid] = (thread.name, cpu)

    def by_role(self) -> dict[str, float]:
        found: dict[str, float] = {}
        for tid, (name, cpu) in self._last.items():
            role = next((r for prefix, r in self.ROLES if prefix in name), "other")
            found[role] = found.get(role, 0.0) + cpu - self._first.get(tid, 0.0)
        return found


class GroupCount:
    """Counts the store writer's committed groups (a writer observer, passing every call on)."""

    def __init__(self) -> None:
        from yapdns.storage.observe import set_writer_observer, writer_observer

        self.groups = 0
        self._next = writer_observer()
        set_writer_observer(self)

    def queue_depth(self, writer: str, depth: int) -> None:
        if self._next is not None:
            self._next.queue_depth(writer, depth)

    def group_applied(self, writer: str, observations: int, seconds: float) -> None:
        self.groups += 1
        if self._next is not None:
            self._next.group_applied(writer, observations, seconds)


def matcher_cost(batches: list[list[Observation]]) -> dict[str, float]:
    """µs per observation of the stored watchlist's matcher alone, in one thread: cold, then warm."""
    from yapdns.server.detection.services import build_matcher

    matcher = build_matcher()
    total = sum(len(b) for b in batches)
    found: dict[str, float] = {}
    for label in ("cold", "warm"):
        t = time.process_time()
        for batch in batches:
            matcher.match(batch)
        found[f"matcher_us_per_obs_{label}"] = round(1e6 * (time.process_time() - t) / total, 3)
    return found


def follow_nod(store: Store, stop: threading.Event) -> list[int]:
    """A SIEM following the NOD stream: scan from its cursor once a second until ``stop``; names read."""
    from yapdns.server.detection import nod

    after, found = 0, [0]
    while not stop.is_set():
        for step in nod.scan(store, nod.NodQuery(), after):
            if isinstance(step, int):
                after = step
            else:
                found[0] += 1
        stop.wait(1.0)
    return found


def folding(store: Store) -> Folder:
    """The folding thread of a server process, on this store."""
    from yapdns import config
    from yapdns.server.detection.live import Folder

    return Folder(lambda: store, config.get_int("YAPDNS_MATCH_FOLD_INTERVAL")).start()


class KeepInRequest:
    """The live hook as builds before the writer kept matches: the request keeps its batch's after the commit."""

    def __init__(self, hook: LiveMatching) -> None:
        self.hook = hook

    def begin(self, observations: Sequence[Observation], ref: BatchRef) -> Callable[[], None]:
        then = self.hook.begin(observations, ref)
        if not isinstance(then, Then):
            return then
        return lambda: self.hook.committed([(then.note, WriteOutcome(False, ref.accepted, ref.rejected))])


def hooks(mode: str) -> tuple[AfterCommit, ...]:
    """The ingest hooks of ``mode``."""
    from yapdns.server.detection import live

    if mode in ("match", "asn"):
        return (live.live_matching(),)
    return (KeepInRequest(live.live_matching()),) if mode == "match-in-request" else ()


def ingest(batches: list[list[Observation]], mode: str, where: Path, name: str, clients: int,
           asn: tuple[Path, int] | None = None) -> tuple[float, float, dict[str, float]]:
    from yapdns.enrich.mmdb import MmdbDataset
    from yapdns.server.detection import asnmatch, services
    from yapdns.server.detection.models import WatchlistEntry

    store = open_bench_store("sqlite", where, name, fresh=True)
    service = IngestService(store, hooks(mode))
    added: list[int] = []
    if mode == "asn" and asn:
        asnmatch.use_resolver(asnmatch.AsnResolver(lambda: store, [MmdbDataset(asn[0])]))
        added = asn_entries(asn[1])
    stop = threading.Event()
    reader = threading.Thread(target=follow_nod, args=(store, stop), name="nod-follower") if mode == "nod" else None
    if reader:
        reader.start()
    folder = folding(store) if mode in ("match", "match-in-request", "asn") else None

    class Adapter:  # run_clients calls store.write(batch, ref): route it through the ingest service
        def write(self, observations: list[Observation], ref: BatchRef) -> None:
            service.submit(ref.sensor, DecodedBatch(ref.batch_id, observations, []))

    with ThreadCpu() as threads:
        t, cpu = time.perf_counter(), time.process_time()
        run_clients([Adapter()], batches, clients)  # type: ignore[list-item]
        if folder is not None:
            folder.stop()  # its last fold: every kept match is in an alert before the clock stops
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    stop.set()
    if reader:
        reader.join()
    if added:
        WatchlistEntry.objects.filter(pk__in=added).delete()
        services.forget_matcher()
        asnmatch.forget_resolver()
    store.close()
    total = sum(len(b) for b in batches)
    return total / wall, total / cpu, threads.by_role()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--obs", type=int, default=2_000_000)
    parser.add_argument("--uniques", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--regexes", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--asn-entries", type=int, default=100)
    parser.add_argument("--modes", default="off,match,nod,asn")
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

        modes = args.modes.split(",")

        universe = Universe(args.uniques)
        batches = [obs for _, obs in observation_batches(universe, args.obs, args.batch)]
        stored = watchlist(universe, args.entries, args.regexes)
        asn = (asn_mmdb(where), args.asn_entries) if "asn" in modes else None
        rates: dict[str, list[float]] = {m: [] for m in modes}
        per_cpu: dict[str, list[float]] = {m: [] for m in modes}
        roles: dict[str, dict[str, float]] = {m: {} for m in modes}
        groups: dict[str, int] = dict.fromkeys(modes, 0)
        counter = GroupCount()
        for r in range(args.rounds):
            for mode in modes[r % len(modes) :] + modes[: r % len(modes)]:
                before = counter.groups
                rate, cpu_rate, by_role = ingest(batches, mode, where, f"bench_{mode}_{r}", args.clients, asn)
                rates[mode].append(rate)
                per_cpu[mode].append(cpu_rate)
                groups[mode] += counter.groups - before
                for role, seconds in by_role.items():
                    roles[mode][role] = roles[mode].get(role, 0.0) + seconds / args.rounds
                print(json.dumps({"round": r, "mode": mode, "obs_per_s": round(rate), "obs_per_cpu_s": round(cpu_rate),
                                  "groups": counter.groups - before,
                                  "cpu_s": {k: round(v, 2) for k, v in sorted(by_role.items())}}), flush=True)
        mean = {m: sum(v) / len(v) for m, v in rates.items()}
        mean_cpu = {m: sum(v) / len(v) for m, v in per_cpu.items()}
        cost = asn_lookup_cost(batches, asn[0], where, asn[1]) if asn else {}
        if "match" in modes:
            cost.update(matcher_cost(batches))
        print(json.dumps({
            "obs": args.obs, "batch": args.batch, "clients": args.clients, "entries": stored,
            "regexes": args.regexes, "asn_entries": args.asn_entries if asn else 0,
            "alerts": Alert.objects.count(), "match_failures": live.MatchStats.failures,
            "alert_matches": sum(Alert.objects.values_list("matches", flat=True)),
            **{f"obs_per_s_{m}": round(v) for m, v in mean.items()},
            **{f"loss_pct_{m}": round(100 * (1 - v / mean["off"]), 1) for m, v in mean.items() if m != "off"},
            **{f"obs_per_cpu_s_{m}": round(v) for m, v in mean_cpu.items()},
            **{f"cpu_loss_pct_{m}": round(100 * (1 - v / mean_cpu["off"]), 1) for m, v in mean_cpu.items()
               if m != "off"},
            **{f"groups_{m}": round(v / args.rounds, 1) for m, v in groups.items()},
            **{f"cpu_s_{m}": {k: round(v, 2) for k, v in sorted(r.items())} for m, r in roles.items()},
            **cost, "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        }))


if __name__ == "__main__":
    main()
