"""Address enrichment throughput: lookups per second per core (geoip2fast, the built-in AS numbers and countries,
an MMDB), new-address enrichment
per second through a real store, and memory.

    .venv/bin/python -m benchmarks.enrich [--lookups 300000] [--addresses 100000] [--mmdb FILE]

"Per core" is lookups per CPU second of this one-threaded process (``time.process_time``), so other load on the
machine changes the wall time, not the figure much. Without ``--mmdb`` the MMDB is written here with mmdb-writer
(one /24 per AS-announced network of the built-in data's first 50,000, GeoLite2-ASN record shape), about the
size class of GeoLite2-ASN (~500k networks) divided by ten; pass a real GeoLite2/DB-IP/IPinfo file to measure it.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from yapdns.core.model import Observation
from yapdns.core.normalize import normalize_observation
from yapdns.enrich.asnumbers import AsNumberDataset
from yapdns.enrich.builtin import BuiltinDataset
from yapdns.enrich.countries import CountryDataset
from yapdns.enrich.dataset import IpDataset
from yapdns.enrich.enricher import GeoIpEnricher
from yapdns.enrich.mmdb import MmdbDataset
from yapdns.storage.sqlite.store import SqliteStore


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def addresses(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    v4 = [f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
          for _ in range(n - n // 5)]
    v6 = [f"2{rng.randrange(16**3):03x}:{rng.randrange(16**4):x}:{rng.randrange(16**4):x}::{rng.randrange(16**4):x}"
          for _ in range(n // 5)]
    mixed = v4 + v6
    rng.shuffle(mixed)
    return mixed


def lookups_per_core(dataset: IpDataset, ips: list[str]) -> tuple[float, float, int]:
    """(lookups per CPU second, per wall second, answers)."""
    lookup = dataset.lookup
    cpu, wall = time.process_time(), time.perf_counter()
    found = sum(1 for ip in ips if lookup(ip) is not None)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return len(ips) / cpu, len(ips) / wall, found


def synthetic_mmdb(builtin: BuiltinDataset, where: Path, networks: int = 50_000) -> tuple[Path, list[str]]:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
    bases: list[str] = []
    table = builtin._as  # the announced networks of the built-in data, as realistic start addresses
    step = max(1, len([s for s in table.starts if s < 2**32]) // networks)
    for k, start in enumerate(s for s in table.starts[::step] if s < 2**32):
        if k >= networks:
            break
        base = start & ~0xFF
        cidr = f"{base >> 24 & 255}.{base >> 16 & 255}.{base >> 8 & 255}.0/24"
        bases.append(cidr[:-5])
        writer.insert_network(IPSet([cidr]), {"autonomous_system_number": 64512 + k % 1000,
                                             "autonomous_system_organization": f"AS-{k % 1000}"})
    path = where / "bench-asn.mmdb"
    writer.to_db_file(str(path))
    return path, bases


def new_address_rate(dataset: IpDataset, n: int, where: Path) -> tuple[float, float]:
    """(new addresses enriched per wall second, per CPU second) through SqliteStore, from an empty context table."""
    store = SqliteStore(where / "bench.sqlite3", cache_mb=256)
    store.migrate()
    now = int(time.time())
    batch = [normalize_observation(Observation(rrname=f"n{i}.bench.example", rrtype="AAAA" if ":" in ip else "A",
                                               rdata=(ip,), time_first=now, time_last=now, count=1))
             for i, ip in enumerate(addresses(n, seed=11))]
    for start in range(0, len(batch), 5000):
        store.write(batch[start : start + 5000])
    enricher = GeoIpEnricher([dataset])
    cursor, done = None, 0
    cpu, wall = time.process_time(), time.perf_counter()
    while True:
        step = enricher.enrich_step(store, dataset, cursor)
        if step.addresses == 0:
            break
        cursor, done = step.next_cursor, done + step.addresses
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    store.close()
    return done / wall, done / cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lookups", type=int, default=300_000)
    parser.add_argument("--addresses", type=int, default=100_000)
    parser.add_argument("--mmdb", type=Path)
    args = parser.parse_args()
    print(f"# machine: nproc={os.cpu_count()} loadavg={os.getloadavg()[0]:.2f} (shared; figures per CPU second)")
    before = rss_mb()
    started = time.perf_counter()
    builtin = BuiltinDataset()
    print(f"builtin: load {time.perf_counter() - started:.1f} s, +{rss_mb() - before:.0f} MB RSS "
          f"({builtin.info().identity})")
    ips = addresses(args.lookups)
    per_core, per_wall, found = lookups_per_core(builtin, ips)
    print(f"builtin lookups: {per_core:,.0f}/s per core ({per_wall:,.0f}/s wall), {found / len(ips):.0%} answered")
    for label, make in (("AS numbers", AsNumberDataset), ("countries", CountryDataset)):
        before, started = rss_mb(), time.perf_counter()
        dataset = make()
        print(f"{label}: load {time.perf_counter() - started:.1f} s, +{rss_mb() - before:.0f} MB RSS "
              f"({dataset.info().identity}, {len(dataset):,} segments)")
        per_core, per_wall, found = lookups_per_core(dataset, ips)
        print(f"{label} lookups: {per_core:,.0f}/s per core ({per_wall:,.0f}/s wall), {found / len(ips):.0%} answered")
    with tempfile.TemporaryDirectory() as tmp:
        mmdb_ips = ips
        if args.mmdb:
            path = args.mmdb
        else:  # half the lookups inside its networks, half random
            path, bases = synthetic_mmdb(builtin, Path(tmp))
            rng = random.Random(3)
            mmdb_ips = [f"{rng.choice(bases)}.{rng.randrange(256)}" if i % 2 else ip for i, ip in enumerate(ips)]
        before = rss_mb()
        mmdb = MmdbDataset(path)
        per_core, per_wall, found = lookups_per_core(mmdb, mmdb_ips)
        print(f"mmdb lookups ({path.name}, {path.stat().st_size / 2**20:.1f} MB, +{rss_mb() - before:.0f} MB RSS "
              f"mapped): {per_core:,.0f}/s per core ({per_wall:,.0f}/s wall), {found / len(ips):.0%} answered")
        rate_wall, rate_cpu = new_address_rate(builtin, args.addresses, Path(tmp))
        print(f"new-address enrichment (builtin, SqliteStore, {args.addresses:,} addresses): "
              f"{rate_wall:,.0f}/s wall, {rate_cpu:,.0f}/s per CPU second of this process")
    print(f"# loadavg after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
