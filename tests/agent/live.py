"""Real processes for the agent's reliability tests: a `yapdns serve` and `yapdns agent` runs.

The server runs on an ephemeral port with its own data directory. What it
stored is read back through its own query API (``/api/v1/record``), per
sensor, so several tests can share one server without seeing each other.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from tests.agent.helpers import Key, Totals

YAPDNS = [sys.executable, "-m", "yapdns"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, data_dir: Path, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.env = {**os.environ, "YAPDNS_DATA_DIR": str(data_dir), **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self._query_token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        done = subprocess.run([*YAPDNS, *args], env=self.env, capture_output=True, text=True, check=False)
        if done.returncode:
            raise AssertionError(f"yapdns {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def start(self) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.cli("migrate")
        args = [*YAPDNS, "serve", "--port", str(self.port), "--no-migrate", "--threads", "4", "--no-access-log"]
        with (self.data_dir / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {(self.data_dir / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/health", timeout=2):
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

    def sensor_token(self, name: str) -> str:
        return self.cli("sensor", "add", name, "--token-only").strip()

    def query_token(self) -> str:
        if self._query_token is None:
            self.cli("user", "add", "tester", "--role", "analyst", "--password", "not-a-real-password-0")
            self._query_token = self.cli("token", "add", "tester").strip().splitlines()[-1]
        return self._query_token

    def totals(self, keys: Iterable[Key], sensor: str) -> Totals:
        """What the server holds for ``keys`` under ``sensor`` (keys it does not have are left out)."""
        out: Totals = {}
        for rrname, rrtype, rdata in keys:
            query = urllib.parse.urlencode({"rrname": rrname, "rrtype": rrtype, "rdata": rdata})
            request = urllib.request.Request(
                f"{self.url}/api/v1/record?{query}", headers={"Authorization": f"Bearer {self.query_token()}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    detail = json.load(reply)
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    continue
                raise
            for prov in detail["provenance"]:
                if prov["sensor_id"] == sensor:
                    out[(rrname, rrtype, rdata)] = (prov["time_first"], prov["time_last"], prov["count"])
        return out


def agent_config(path: Path, url: str, token: str, inputs: list[dict[str, Any]], **sections: dict[str, Any]) -> Path:
    """Write an agent.yml tuned for tests (short windows and backoffs)."""
    doc: dict[str, Any] = {
        "path.data": str(path.parent / "agent-data"),
        "inputs": [
            {"scan_frequency": "50ms", "backoff": "20ms", "close_rotated": "500ms", **entry} for entry in inputs
        ],
        "output": {"url": url, "token": token, "backoff": {"initial": "50ms", "max": "500ms"}, "timeout": "5s"},
        "aggregate": {"window": "200ms"},
        "stats": {"period": "1s"},
    }
    for name, values in sections.items():
        doc[name] = {**doc.get(name, {}), **values}
    path.write_text(yaml.safe_dump(doc))
    return path


class AgentProcess:
    """``yapdns agent -c CONFIG`` as a child process."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = config.parent / "agent.log"

    def start(self) -> AgentProcess:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([*YAPDNS, "agent", "-c", str(self.config)], stdout=log, stderr=log)
        return self

    def stop(self, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stats(self) -> dict[str, Any]:
        out = subprocess.run([*YAPDNS, "agent", "-c", str(self.config), "--stats"], capture_output=True, check=False)
        return json.loads(out.stdout) if out.returncode == 0 else {}

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def run_once(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    cmd = [*YAPDNS, "agent", "--once", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
