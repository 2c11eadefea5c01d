"""How long each dashboard page takes on a large SQLite store (prints figures; not a test).

Builds (once, then reuses) a store of ``--records`` per-RR records with a
heavy domain (many subdomains: a zone apex with 2.5 % of the records under
it, 250k names at 10M), a fast-flux name (many A records) and a busy /16,
then renders each page in-process through Django's test client, logged in,
and prints the first, the median and the worst of ``--repeat`` warm timings.
The pages include the zone apex's page, the summary view, a whole-result
sort and a bulk search of 1,000 indicators (a POST). The overview's
background "top names" scan is timed first, separately, and what
``yapdns serve`` builds before forking its workers (``prepare_shared``)
is built before the pages, as in the server.

    .venv/bin/python benchmarks/dashboard_pages.py --records 2000000 --dir /tmp/yapdns-bench
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

NOW = 1_780_000_000
BATCH = 250_000


def observations(total: int) -> Iterator[object]:
    from yapdns.core.model import Observation

    year = 365 * 86400
    for i in range(total):
        first = NOW - (i * 7919 % (2 * year))
        last = min(NOW, first + (i * 104729 % year))
        if i % 40 == 0:  # a heavy domain: many subdomains
            name, rrtype, rdata = f"s{i}.heavy.example", "A", f"10.200.{i // 256 % 256}.{i % 256}"
        elif i % 97 == 0:  # a fast-flux name: many addresses
            name, rrtype, rdata = "fastflux.example", "A", f"172.16.{i // 256 % 256}.{i % 256}"
        elif i % 10 == 1:
            name, rrtype, rdata = f"www.d{i // 20}.example{i % 13}.net", "CNAME", f"d{i // 20}.example{i % 13}.net"
        elif i % 20 == 2:
            name, rrtype, rdata = f"d{i // 20}.example{i % 13}.net", "MX", f"10 mx{i % 50}.mail.example"
        else:
            ip = f"10.{i // 65536 % 200}.{i // 256 % 256}.{i % 256}"
            name, rrtype, rdata = f"n{i}.d{i // 20}.example{i % 13}.net", "A", ip
        yield Observation(rrname=name, rrtype=rrtype, rdata=(rdata,), time_first=first, time_last=last,
                          count=1 + i % 17, sensor_id="bench")


def build(total: int) -> None:
    from yapdns.server.store import get_store
    from yapdns.storage.base import BatchRef

    store = get_store()
    store.migrate()
    if store.stats().records >= total:
        print(f"reusing the store: {store.stats().records:,} records")
        return
    started, batch, n = time.perf_counter(), [], 0
    for obs in observations(total):
        batch.append(obs)
        if len(batch) == BATCH:
            n += 1
            store.write(batch, BatchRef("bench", f"b{n}", len(batch)))
            batch = []
    if batch:
        store.write(batch, BatchRef("bench", f"b{n + 1}", len(batch)))
    print(f"built {store.stats().records:,} records in {time.perf_counter() - started:.0f} s")


def bulk_indicators(total: int, count: int = 1000) -> str:
    """``count`` pasted indicators: names and addresses of the store (some defanged), and unknown ones."""
    found = []
    for k in range(count):
        i = (k * 7919) % total
        if k % 4 == 0:
            found.append(f"n{i}.d{i // 20}.example{i % 13}[.]net" if i % 20 > 2 else f"unknown{k}.example")
        elif k % 4 == 1:
            found.append(f"10.{i // 65536 % 200}.{i // 256 % 256}[.]{i % 256}")
        elif k % 4 == 2:
            found.append(f"hxxp://www.d{i // 20}.example{i % 13}.net/path")
        else:
            found.append(f"gone{k}.example" if k % 8 == 3 else "fastflux.example")
    return "\n".join(found)


PAGES: list[tuple[str, str]] = [
    ("overview", "/"),
    ("search exact", "/search?q=d1000.example7.net"),
    ("search *.heavy.example (page 1 of many)", "/search?q=*.heavy.example"),
    ("search 10.200.0.0/16", "/search?q=10.200.0.0/16&limit=500"),
    ("search rdata:d1000.example7.net", "/search?q=rdata:d1000.example7.net"),
    ("domain heavy.example (zone apex)", "/domain/heavy.example"),
    ("domain fastflux.example", "/domain/fastflux.example"),
    ("summary view *.heavy.example", "/search?q=*.heavy.example&view=summary"),
    ("summary view fastflux.example", "/search?q=fastflux.example&view=summary"),
    ("search *.heavy.example sorted by count", "/search?q=*.heavy.example&sort=-count"),
    ("search fastflux.example page 2 (prev/next)", "/search?q=fastflux.example&page=2&sort=-time_last"),
    ("ip 10.200.1.40", "/ip/10.200.1.40"),
    ("pivot api fastflux.example", "/api/v1/pivot?node=fastflux.example"),
]


def measure(repeat: int, total: int) -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    from yapdns.server.accounts.roles import set_role
    from yapdns.server.gunicorn_app import prepare_shared

    prepare_shared()  # as `yapdns serve`'s master does before forking: no page's first render builds it
    user = User.objects.filter(username="bench").first() or User.objects.create_user("bench")
    set_role(user, "analyst")
    client = Client()
    client.force_login(user)
    print(f"{'page':45} {'first ms':>9} {'median ms':>10} {'worst ms':>9} {'bytes':>9}")
    pasted = bulk_indicators(total)
    requests: list[tuple[str, str, dict[str, str] | None]] = [(label, url, None) for label, url in PAGES]
    requests.append(("bulk search, 1,000 indicators (POST)", "/bulk", {"indicators": pasted}))
    for label, url, form in requests:
        timings, size = [], 0
        for _ in range(repeat + 1):
            started = time.perf_counter()
            reply = client.get(url) if form is None else client.post(url, form)
            timings.append((time.perf_counter() - started) * 1000)
            assert reply.status_code == 200, (url, reply.status_code)
            size = len(reply.content)
        warm = timings[1:]
        print(f"{label:45} {timings[0]:9.1f} {statistics.median(warm):10.1f} {max(warm):9.1f} {size:9,}")


def top_names_scan() -> None:
    """The overview's background job, run here first so that it does not run during the page timings."""
    from yapdns.server.dashboard.summaries import refresh_top_names
    from yapdns.server.store import get_store

    snap = refresh_top_names(get_store())
    print(f"top-names scan (background job, every max(10 min, 20 x scan)): {snap.seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("benchmarks/results/dashboard-store"))
    parser.add_argument("--no-scan", action="store_true", help="skip timing the top-names scan (kept from a run)")
    parser.add_argument("--build-only", action="store_true", help="build (or extend) the store, time nothing")
    args = parser.parse_args()
    os.environ["YAPDNS_DATA_DIR"] = str(args.dir.resolve())
    os.environ.setdefault("YAPDNS_SECRET_KEY", "benchmark-only")
    os.environ.setdefault("YAPDNS_ALLOWED_HOSTS", "testserver")  # Django's test client
    from yapdns.server.setup import migrate_app, setup_django

    setup_django()
    migrate_app(verbosity=0)
    build(args.records)
    if args.build_only:
        return
    if not args.no_scan:
        top_names_scan()
    measure(args.repeat, args.records)
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
