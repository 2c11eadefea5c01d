"""A live YAPDNS server for the compat tests: ``yapdns serve`` on a free port, a temp data dir,
a user with a query token, and the dataset loaded through the real ingest API.

Started once per test session (it takes a few seconds) and stopped at the end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.server.compat import dataset
from yapdns.core.wire import encode_ndjson

YAPDNS = [sys.executable, "-m", "yapdns"]


@dataclass(frozen=True)
class LiveServer:
    url: str
    token: str
    user: str
    env: dict[str, str]
    data_dir: Path

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([*YAPDNS, *args], env=self.env, input=stdin, capture_output=True, text=True,
                              check=True, timeout=60)
        return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1].strip()


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("yapdns serve exited early")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("yapdns serve did not become ready")


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("compat-live")
    env = {**os.environ, "YAPDNS_DATA_DIR": str(data_dir), "YAPDNS_CIRCL_MAX_ROWS": "50"}
    env.pop("YAPDNS_DATABASE_URL", None)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    base = LiveServer(url, "", "alice", env, data_dir)
    base.cli("migrate")
    base.cli("user", "add", "alice", "--role", "analyst", "--password-stdin", stdin="correct-horse-battery\n")
    token = _last_line(base.cli("token", "add", "alice", "--name", "compat-tests"))
    sensor_token = _last_line(base.cli("sensor", "add", "lab-sensor"))
    proc = subprocess.Popen([*YAPDNS, "serve", "--port", str(port), "--no-access-log", "--no-migrate"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(url, proc)
        answer = httpx.post(f"{url}/api/v1/ingest", content=encode_ndjson(dataset.observations()),
                            headers={"Authorization": f"Bearer {sensor_token}", "Content-Type": "application/x-ndjson",
                                     "X-Batch-Id": "compat-dataset"}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["rejected"] == 0, answer.text
        yield LiveServer(url, token, "alice", env, data_dir)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
