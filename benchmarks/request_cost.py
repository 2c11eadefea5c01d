"""The server CPU one hostile request costs (issue 13), for one or more source trees, measured in one run.

For each ``--src`` tree (a checkout's ``src/`` directory; default: this checkout's), starts ``yapdns serve``
from that tree (``PYTHONPATH``) on a fresh SQLite data directory, makes a sensor and a query token with the
tree's own CLI, and ingests ``--zones`` x 50 A records (names ``hN.zM.example``). Then, for ``--rounds``
rounds, alternating between the trees, it sends each attack and reads the server's CPU time (utime + stime of
the gunicorn master and its workers, from ``/proc``) before and after the answer:

1. ``bad-records``: one ingest request, a gzip body of 9.4M records that all fail validation;
2. ``blank-lines``: one ingest request, 255 MB of blank lines gzipped;
3. ``bulk-wildcards``: one ``/api/v1/bulk`` request of 10,000 wildcard queries (``*.zM.example``), limit 100.

It prints, per tree and attack, the median CPU seconds, the HTTP status and the answer size, then the ratio
of each tree's CPU to the first tree's, with the machine and load average. Compare ratios within one run only.

    git worktree add /tmp/yapdns-before <old commit>
    .venv/bin/python -m benchmarks.request_cost --src /tmp/yapdns-before/src --src src
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and all its descendants."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


@dataclass
class Server:
    """``yapdns serve`` from one source tree."""

    src: Path
    data: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    sensor: str = ""
    query: str = ""
    results: dict[str, list[tuple[float, int, int]]] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.src), "YAPDNS_DATA_DIR": str(self.data),
                "YAPDNS_DATABASE_URL": "", "YAPDNS_SECRET_KEY": "benchmark-only"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "yapdns", *args], env=self.env, capture_output=True,
                              text=True, check=True)
        return done.stdout.strip()

    def start(self) -> None:
        self.cli("migrate")
        self.sensor = self.cli("sensor", "add", "bench", "--token-only")
        self.cli("user", "add", "bench", "--role", "analyst")
        self.query = self.cli("token", "add", "bench").splitlines()[-1]
        log = (self.data / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "yapdns", "serve", "--port", str(self.port), "--no-migrate", "--threads", "4",
             "--no-access-log"], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                httpx.get(self.url + "/api/v1/health", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit(f"server from {self.src} did not start")

    def load(self, zones: int) -> None:
        lines = [json.dumps({"rrname": f"h{i}.z{z}.example", "rrtype": "A", "rdata": f"10.{z // 250}.{z % 250}.{i}",
                             "time_first": 1_700_000_000, "time_last": 1_700_000_100}) for z in range(zones)
                 for i in range(50)]
        for start in range(0, len(lines), 5000):
            body = ("\n".join(lines[start : start + 5000]) + "\n").encode()
            reply = httpx.post(self.url + "/api/v1/ingest", content=body, timeout=120,
                               headers={**self._auth(self.sensor), "Content-Type": "application/x-ndjson",
                                        "X-Batch-Id": f"load-{start}"})
            reply.raise_for_status()

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def attack(self, name: str, path: str, body: bytes, headers: dict[str, str], token: str) -> None:
        assert self.proc is not None
        before = _tree_cpu(self.proc.pid)
        with httpx.Client(timeout=600) as client:
            reply = client.post(self.url + path, content=body, headers={**self._auth(token), **headers})
            size = len(reply.content)
        time.sleep(0.2)  # let the worker finish its bookkeeping
        self.results.setdefault(name, []).append((_tree_cpu(self.proc.pid) - before, reply.status_code, size))

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def attacks(zones: int) -> list[tuple[str, str, bytes, dict[str, str], str]]:
    """(name, path, body, headers, which token) of each attack request."""
    gz = {"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
    bad = gzip.compress(b'{"rrname":"x"}\n' * 9_400_000, compresslevel=9)
    blank = gzip.compress(b"\n" * 255_000_000, compresslevel=9)
    wildcards = json.dumps({"queries": [f"*.z{i % zones}.example" for i in range(10_000)], "limit": 100}).encode()
    return [
        ("bad-records", "/api/v1/ingest", bad, {**gz, "X-Batch-Id": "bad"}, "sensor"),
        ("blank-lines", "/api/v1/ingest", blank, {**gz, "X-Batch-Id": "blank"}, "sensor"),
        ("bulk-wildcards", "/api/v1/bulk", wildcards, {"Content-Type": "application/json"}, "query"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--src", action="append", type=Path, help="a source tree (repeat; default: this one)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--zones", type=int, default=200)
    args = parser.parse_args()
    trees = [p.resolve() for p in (args.src or [ROOT / "src"])]
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} CPUs, python {platform.python_version()}")
    print(f"# load average at start: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    requests = attacks(args.zones)
    print("# bodies: " + ", ".join(f"{name} {len(body):,} bytes" for name, _, body, _, _ in requests))
    with tempfile.TemporaryDirectory(prefix="yapdns-cost-") as tmp:
        servers = [Server(src, Path(tmp) / f"tree{i}", _free_port()) for i, src in enumerate(trees)]
        try:
            for server in servers:
                server.data.mkdir()
                server.start()
                server.load(args.zones)
            for _ in range(args.rounds):
                for name, path, body, headers, who in requests:
                    for server in servers:
                        server.attack(name, path, body, headers, server.sensor if who == "sensor" else server.query)
        finally:
            for server in servers:
                server.stop()
    print(f"# load average at end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"{'attack':16} {'tree':40} {'CPU s (median)':>15} {'status':>7} {'answer bytes':>13} {'vs first':>9}")
    for name, *_ in requests:
        first = statistics.median(c for c, _, _ in servers[0].results[name])
        for server in servers:
            runs = server.results[name]
            cpu = statistics.median(c for c, _, _ in runs)
            ratio = cpu / first if first else float("nan")
            print(f"{name:16} {str(server.src)[-40:]:40} {cpu:15.2f} {runs[-1][1]:7d} {runs[-1][2]:13,d} {ratio:9.3f}")


if __name__ == "__main__":
    main()
