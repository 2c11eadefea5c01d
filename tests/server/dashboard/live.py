"""A real ``yapdns serve`` for end-to-end tests: own data dir, own port, users and sensors made
with the CLI, data ingested through the real ingest API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.server.dashboard import dataset
from yapdns.core.wire import encode_ndjson

PASSWORD = "correct horse battery staple"
SENSORS = ("edge", "sandbox")
USERS = {"admin": "admin", "analyst": "analyst", "reader": "read-only", "victim": "read-only"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    root: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "yapdns", *args], env=self.env, input=stdin, capture_output=True, text=True,
            check=False, timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"yapdns {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def start(self) -> None:
        log = (self.root / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "yapdns", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--threads", "4", "--no-access-log"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {(self.root / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not become healthy in 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def ingest(self, sensor: str, observations: list[object]) -> dict[str, object]:
        response = httpx.post(
            f"{self.url}/api/v1/ingest",
            content=encode_ndjson(observations),  # type: ignore[arg-type]
            headers={
                "Authorization": f"Bearer {self.tokens[sensor]}",
                "Content-Type": "application/x-ndjson",
                "X-Batch-Id": str(uuid.uuid4()),
            },
            timeout=30,
        )
        response.raise_for_status()
        body: dict[str, object] = response.json()
        return body


def launch(root: Path, *, failure_limit: int = 5) -> LiveServer:
    """Start a server with the three users, two sensors and the dataset ingested."""
    env = {
        **os.environ,
        "YAPDNS_DATA_DIR": str(root / "data"),
        "YAPDNS_LOGIN_FAILURE_LIMIT": str(failure_limit),
        "YAPDNS_LOGIN_COOLOFF_SECONDS": "600",
        "YAPDNS_DATABASE_URL": "",
        "YAPDNS_TLS": "false",
    }
    server = LiveServer(root, env)
    server.cli("migrate")
    for username, role in USERS.items():
        server.cli("user", "add", username, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
    for sensor in SENSORS:
        server.tokens[sensor] = server.cli("sensor", "add", sensor, "--token-only").strip()
    server.start()
    now = int(time.time())
    server.ingest("edge", dataset.edge_observations(now))  # type: ignore[arg-type]
    server.ingest("sandbox", dataset.sandbox_observations(now))  # type: ignore[arg-type]
    return server
