"""Benchmark of the compatible APIs: DNSDB lookups/s and rows/s streamed, with the server's peak memory.

Builds a SQLite store of ``--records`` A records (names ``hNNNNNNN.bench.example``, addresses spread
over 10.0.0.0/8), starts ``yapdns serve`` on it, then measures:

1. requests/s for the typical lookup: ``lookup/rrset/name/<exact name>?limit=100`` (keep-alive, N threads);
2. rows/s for a large ``lookup/rdata/ip/10.0.0.0,8?limit=0`` answer streamed to the end;
3. the server's peak RSS (VmHWM) before and after streaming.

    .venv/bin/python benchmarks/compat.py --records 2000000
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from yapdns.core.model import Observation
from yapdns.storage.sqlite.store import SqliteStore

YAPDNS = [sys.executable, "-m", "yapdns"]


def build_store(path: Path, records: int) -> float:
    store = SqliteStore(path)
    store.migrate()
    started = time.perf_counter()
    batch: list[Observation] = []
    for i in range(records):
        ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        batch.append(Observation(rrname=f"h{i:07d}.bench.example", rrtype="A", rdata=(ip,),
                                 time_first=1_600_000_000 + i, time_last=1_700_000_000, count=1 + i % 7,
                                 bailiwick="bench.example"))
        if len(batch) == 50_000:
            store.write(batch)
            batch = []
    if batch:
        store.write(batch)
    store.close()
    return time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss_mib(pid: int) -> float:
    worst = 0
    for child in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                worst = max(worst, int(line.split()[1]))
    return worst / 1024


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def lookups_per_second(url: str, key: str, records: int, threads: int, seconds: float) -> tuple[float, int]:
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(slot: int) -> None:
        rng = random.Random(slot)
        with httpx.Client(base_url=url, headers={"X-API-Key": key, "Accept": "application/x-ndjson"}) as client:
            while time.perf_counter() < stop:
                name = f"h{rng.randrange(records):07d}.bench.example"
                response = client.get(f"/dnsdb/v2/lookup/rrset/name/{name}?limit=100")
                assert response.status_code == 200 and response.text.count('"obj"') == 1, response.text[:200]
                done[slot] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(done) / (time.perf_counter() - started), sum(done)


def stream_rows(url: str, key: str) -> tuple[int, float, str]:
    rows, last = 0, b""
    started = time.perf_counter()
    headers = {"X-API-Key": key, "Accept": "application/x-ndjson"}
    with httpx.stream("GET", f"{url}/dnsdb/v2/lookup/rdata/ip/10.0.0.0,8?limit=0", headers=headers, timeout=None) as r:
        for line in r.iter_lines():
            if line.startswith('{"obj"'):
                rows += 1
            elif line:
                last = line.encode()
    return rows, time.perf_counter() - started, last.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yapdns-bench-compat-") as tmp:
        env = {**os.environ, "YAPDNS_DATA_DIR": tmp}
        env.pop("YAPDNS_DATABASE_URL", None)
        build_s = build_store(Path(tmp) / "store.sqlite3", args.records)
        run = lambda *a, stdin=None: subprocess.run([*YAPDNS, *a], env=env, input=stdin, capture_output=True,  # noqa: E731
                                                    text=True, check=True).stdout
        run("migrate")
        run("user", "add", "bench", "--password-stdin", stdin="bench-password-123\n")
        key = run("token", "add", "bench").strip().splitlines()[-1]
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([*YAPDNS, "serve", "--port", str(port), "--no-access-log", "--no-migrate"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{url}/dnsdb/v2/ping").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            rps, total = lookups_per_second(url, key, args.records, args.threads, args.seconds)
            rss_before = _peak_rss_mib(server.pid)
            rows, secs, last = stream_rows(url, key)
            rss_after = _peak_rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"store: {args.records:,} A records in SQLite, built in {build_s:.1f} s")
    print(f"exact rrset lookup, limit=100: {rps:,.0f} requests/s ({total:,} requests, {args.threads} client threads)")
    print(f"rdata/ip 10.0.0.0,8 limit=0: {rows:,} rows in {secs:.1f} s = {rows / secs:,.0f} rows/s; terminator {last}")
    print(f"server peak RSS: {rss_before:.0f} MiB before streaming, {rss_after:.0f} MiB after")


if __name__ == "__main__":
    main()
