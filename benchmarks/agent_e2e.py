"""End-to-end agent benchmark: log lines on disk → `yapdns agent --once` → `yapdns serve` → acknowledged.

Starts a server (embedded SQLite, temporary data directory) and runs the real agent as a child process on
generated COF exports (one JSON object per line, the format of tests/agent/parsers/golden/cof):

1. **repeat-heavy log**: ``--lines`` lines over ``--keys`` distinct records (DNS traffic repeats itself):
   lines/s and observations/s from the first line read to the last batch acknowledged, and how far the
   aggregator folded them;
2. **one 1M-key window**: ``--window-keys`` distinct records, all folded in a single aggregation window
   (``aggregate.max_keys`` = that number, ``window`` = 1 h): the agent's peak resident memory (VmHWM)
   and the same rates.

Each run also prints the server's CPU time per observation it received (its processes' user + system time
over the run: on a shared machine a steadier measure than the wall rates) and the load average.

    .venv/bin/python benchmarks/agent_e2e.py --lines 1000000 --keys 10000 --window-keys 1000000
    .venv/bin/python benchmarks/agent_e2e.py --lines 0 --in-flight 4      # the 1M-key window only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

YAPDNS = [sys.executable, "-m", "yapdns"]
START = 1_700_000_000


def write_log(path: Path, lines: int, keys: int) -> int:
    """``lines`` COF lines cycling over ``keys`` A records, one second apart; returns the file size."""
    with path.open("w") as fh:
        for i in range(lines):
            k = i % keys
            ip = f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"
            fh.write(
                json.dumps(
                    {
                        "count": 1,
                        "time_first": START + i,
                        "rrtype": "A",
                        "rrname": f"h{k:07d}.bench.example",
                        "rdata": ip,
                        "time_last": START + i,
                    }
                )
                + "\n"
            )
    return path.stat().st_size


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data: Path, port: int = 0) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {**os.environ, "YAPDNS_DATA_DIR": str(data)}
    subprocess.run([*YAPDNS, "migrate"], env=env, check=True, capture_output=True)
    token = subprocess.run(
        [*YAPDNS, "sensor", "add", "bench", "--token-only"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    port = port or free_port()
    server = subprocess.Popen(
        [*YAPDNS, "serve", "--port", str(port), "--no-migrate", "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2):
                return server, url, token
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def vm_hwm_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def server_hwm_mib(pid: int) -> float:
    """VmHWM of the server process or of its largest child (a worker), whichever is larger."""
    return max([vm_hwm_mib(pid), *(vm_hwm_mib(c) for c in _children(pid))])


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process and its workers so far."""
    total = 0.0
    for proc in (pid, *_children(pid)):
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run_agent(
    work: Path, url: str, token: str, log: Path, max_keys: int, window: str, server_pid: int, output: dict[str, object]
) -> dict[str, object]:
    config = work / f"agent-{max_keys}.yml"
    config.write_text(
        json.dumps(
            {
                "path.data": str(work / f"agent-data-{max_keys}"),
                "inputs": [{"format": "cof", "paths": [str(log)]}],
                "output": {"url": url, "token": token, **output},
                "aggregate": {"window": window, "max_keys": max_keys},
                "spool": {"max_bytes": "4GiB", "segment_bytes": "64MiB"},
            }
        )
    )
    server_cpu = server_cpu_seconds(server_pid)
    started = time.perf_counter()
    errors = work / f"agent-{max_keys}.stderr"
    with errors.open("w") as stderr:
        agent = subprocess.Popen([*YAPDNS, "agent", "--once", "-c", str(config)], stderr=stderr)
    peak = 0.0
    while True:  # wait4 rather than poll: the child's CPU time comes with it
        pid, status, usage = os.wait4(agent.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, vm_hwm_mib(agent.pid))
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"agent failed: {errors.read_text()}")
    stats = json.loads((work / f"agent-data-{max_keys}" / "stats.json").read_text())
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "server_cpu_seconds": server_cpu_seconds(server_pid) - server_cpu,
        "peak_rss_mib": peak,
        "stats": stats,
    }


def report(title: str, lines: int, size: int, result: dict[str, object]) -> None:
    stats: dict[str, dict[str, int]] = result["stats"]  # type: ignore[assignment]
    seconds: float = result["seconds"]  # type: ignore[assignment]
    pipeline, shipper, timing = stats["pipeline"], stats["shipper"], stats["backfill"]
    read = timing["read_seconds"]
    print(f"\n## {title}")
    print(f"  lines: {lines:,} ({size / 2**20:,.1f} MiB) in {seconds:,.1f} s (process start to last ack)")
    print(f"  end to end: {lines / seconds:,.0f} lines/s, {pipeline['observations_in'] / seconds:,.0f} observations/s")
    print(f"  agent side (read, parse, fold, spool; {read:,.1f} s): {lines / read:,.0f} lines/s")
    cpu: float = result["cpu_seconds"]  # type: ignore[assignment]
    print(f"  agent CPU time: {cpu:,.1f} s, i.e. {lines / cpu:,.0f} lines per CPU-second (the whole run)")
    server: float = result["server_cpu_seconds"]  # type: ignore[assignment]
    spooled = pipeline["observations_spooled"]
    print(f"  server CPU time: {server:,.1f} s, i.e. {server / max(spooled, 1) * 1e6:,.1f} µs per observation received")
    print(
        f"  folded to {spooled:,} observations in {pipeline['batches_spooled']:,} batches; "
        f"server accepted {shipper['observations_accepted']:,}, rejected {shipper['observations_rejected']:,}"
    )
    print(f"  agent peak RSS (VmHWM): {result['peak_rss_mib']:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="repeat-heavy log lines (0: skip that run)")
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--window-keys", type=int, default=1_000_000, help="distinct records (0: skip that run)")
    parser.add_argument("--batch-size", type=int, default=10_000, help="the agent's output.batch_size")
    parser.add_argument("--in-flight", type=int, default=None, help="the agent's output.in_flight (default: its own)")
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    args = parser.parse_args()
    print(f"# agent end-to-end, {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"# load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    output: dict[str, object] = {"batch_size": args.batch_size}
    if args.in_flight is not None:
        output["in_flight"] = args.in_flight
    with tempfile.TemporaryDirectory(prefix="yapdns-agent-bench-") as tmp:
        work = Path(tmp)
        server, url, token = start_server(work / "server", args.port)
        try:
            if args.lines:
                log = work / "repeats.ndjson"
                size = write_log(log, args.lines, args.keys)
                report(
                    f"repeat-heavy log: {args.lines:,} lines over {args.keys:,} records "
                    "(aggregate.max_keys 100000, 10 s)",
                    args.lines,
                    size,
                    run_agent(work, url, token, log, 100_000, "10s", server.pid, output),
                )
            if args.window_keys:
                log = work / "distinct.ndjson"
                size = write_log(log, args.window_keys, args.window_keys)
                report(
                    f"one window of {args.window_keys:,} distinct records "
                    f"(aggregate.max_keys {args.window_keys:,}, 1 h)",
                    args.window_keys,
                    size,
                    run_agent(work, url, token, log, args.window_keys, "1h", server.pid, output),
                )
            print(f"  server peak RSS (VmHWM, its largest process): {server_hwm_mib(server.pid):,.0f} MiB")
            print(f"# load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        finally:
            server.terminate()
            server.wait(60)


if __name__ == "__main__":
    main()
