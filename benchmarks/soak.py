"""Soak benchmark: an agent tails a rotating log and ships to `yapdns serve` on the embedded default.

A writer appends ``--rate`` COF lines a second (a ``--new-share`` of them records never seen before, the
rest repeats of recent ones) to ``soak.ndjson`` and rotates it every ``--rotate-every`` seconds (rename to
``soak.ndjson.1``, drop the older one, start a new file), as logrotate does. The agent runs as a service
(not ``--once``) and the server runs with its default settings, so the figures are those of the defaults.

Every ``--sample-every`` seconds it prints, for the agent and for the server's worker process: resident
memory (RSS, split into anonymous memory and file-backed pages such as SQLite's mmap of the store, which the
kernel can drop) and open file descriptors; the observations the server acknowledged (folded by the agent,
so fewer than the lines) and the store's size on disk. Memory is flat after warm-up
when the last samples' anonymous RSS stops growing.

    .venv/bin/python benchmarks/soak.py                   # 30 minutes
    .venv/bin/python benchmarks/soak.py --duration 900    # 15 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.agent_e2e import YAPDNS, start_server

START = 1_700_000_000


def memory(pid: int) -> tuple[float, float, float]:
    """(RSS, anonymous RSS, file-backed RSS) of ``pid`` in MiB, zeros when it is gone."""
    fields: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                fields[key] = int(value.split()[0]) / 1024
    except OSError:
        return 0.0, 0.0, 0.0
    return fields.get("VmRSS", 0.0), fields.get("RssAnon", 0.0), fields.get("RssFile", 0.0) + fields.get("RssShmem", 0)


def open_files(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def worker_pid(master: int) -> int:
    """The gunicorn worker under ``master`` (one with SQLite), or the master itself before it forks."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return master
    return int(children[0]) if children else master


class LogWriter(threading.Thread):
    """Appends COF lines at a steady rate and rotates the file; counts what it wrote."""

    def __init__(self, log: Path, rate: int, new_share: float, rotate_every: float) -> None:
        super().__init__(daemon=True)
        self.log, self.rate, self.new_share, self.rotate_every = log, rate, new_share, rotate_every
        self.lines = self.rotations = self.new_keys = 0
        self.stop = threading.Event()

    def run(self) -> None:
        rng = random.Random(1)
        fh = self.log.open("a")
        rotated_at = tick = time.monotonic()
        while not self.stop.is_set():
            batch = []
            for _ in range(self.rate // 10):
                if self.new_keys == 0 or rng.random() < self.new_share:
                    self.new_keys += 1
                    key = self.new_keys
                else:
                    key = max(1, self.new_keys - rng.randrange(10_000))
                batch.append(self._line(key))
            fh.write("".join(batch))
            fh.flush()
            self.lines += len(batch)
            if time.monotonic() - rotated_at >= self.rotate_every:
                fh.close()
                self._rotate()
                fh = self.log.open("a")
                rotated_at = time.monotonic()
            tick += 0.1
            time.sleep(max(0.0, tick - time.monotonic()))
        fh.close()

    def _line(self, key: int) -> str:
        ip = f"10.{(key >> 16) & 255}.{(key >> 8) & 255}.{key & 255}"
        now = START + self.lines // self.rate
        record = {"rrname": f"h{key:08d}.soak.example", "rrtype": "A", "rdata": ip, "count": 1}
        return json.dumps({**record, "time_first": now, "time_last": now}) + "\n"

    def _rotate(self) -> None:
        older = self.log.with_name(self.log.name + ".1")
        older.unlink(missing_ok=True)
        self.log.rename(older)
        self.rotations += 1


def start_agent(work: Path, url: str, token: str, log: Path) -> subprocess.Popen[bytes]:
    config = work / "agent.yml"
    config.write_text(
        json.dumps(
            {
                "path.data": str(work / "agent-data"),
                "inputs": [{"format": "cof", "paths": [str(log), str(log) + ".1"]}],
                "output": {"url": url, "token": token},
            }
        )
    )
    stderr = (work / "agent.stderr").open("w")
    return subprocess.Popen([*YAPDNS, "agent", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr)


def accepted(agent_data: Path) -> int:
    """Observations the server acknowledged, from the agent's stats.json (written every few seconds)."""
    try:
        return int(json.loads((agent_data / "stats.json").read_text())["shipper"]["observations_accepted"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def sample(elapsed: float, writer: LogWriter, agent: int, server: int, store: Path, agent_data: Path) -> None:
    a_rss, a_anon, a_file = memory(agent)
    s_rss, s_anon, s_file = memory(server)
    size = sum(p.stat().st_size for p in store.parent.glob(store.name + "*") if p.exists()) / 2**20
    print(
        f"{elapsed / 60:6.1f} min  lines {writer.lines:>10,}  keys {writer.new_keys:>9,}  rot {writer.rotations:>3}"
        f"  acked {accepted(agent_data):>9,}"
        f"  | agent RSS {a_rss:6.0f} (anon {a_anon:5.0f}, file {a_file:4.0f}) fds {open_files(agent):3}"
        f"  | server RSS {s_rss:6.0f} (anon {s_anon:5.0f}, file {s_file:5.0f}) fds {open_files(server):3}"
        f"  | store {size:7.1f} MiB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=1800, help="seconds (default 30 min)")
    parser.add_argument("--rate", type=int, default=3000, help="lines per second")
    parser.add_argument("--new-share", type=float, default=0.3, help="share of lines that are new records")
    parser.add_argument("--rotate-every", type=float, default=120, help="seconds between rotations")
    parser.add_argument("--sample-every", type=float, default=30, help="seconds between samples")
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"# soak: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; {args.rate} lines/s, {args.new_share:.0%} new, "
        f"rotation every {args.rotate_every:.0f} s, {args.duration / 60:.0f} min; memory in MiB"
    )
    with tempfile.TemporaryDirectory(prefix="yapdns-soak-") as tmp:
        work = Path(tmp)
        server, url, token = start_server(work / "server")
        log = work / "logs" / "soak.ndjson"
        log.parent.mkdir()
        writer = LogWriter(log, args.rate, args.new_share, args.rotate_every)
        writer.start()
        agent = start_agent(work, url, token, log)
        started = time.monotonic()
        try:
            while (elapsed := time.monotonic() - started) < args.duration:
                time.sleep(min(args.sample_every, max(0.0, args.duration - elapsed)))
                if agent.poll() is not None:
                    raise SystemExit(f"agent exited: {(work / 'agent.stderr').read_text()[-2000:]}")
                store = work / "server" / "store.sqlite3"
                agent_data = work / "agent-data"
                sample(time.monotonic() - started, writer, agent.pid, worker_pid(server.pid), store, agent_data)
        finally:
            writer.stop.set()
            agent.terminate()
            agent.wait(60)
            server.terminate()
            server.wait(60)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
