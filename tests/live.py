"""The one real `yapdns serve` process of the end-to-end tests: an ephemeral port, its own data directory,
users and sensors made with the real CLI, data sent through the real ingest API."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from yapdns.core.batch import encode_ndjson
from yapdns.core.model import Observation

YAPDNS = [sys.executable, "-m", "yapdns"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """Start the server with ``start()``, stop it with ``stop()`` (or use it as a context manager).

    The environment is the test process's, with the data directory and ``extra_env`` on top; the database is
    the embedded SQLite unless ``extra_env`` names another.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        extra_env: dict[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
        access_log: bool = True,
        serve_args: Sequence[str] = (),
        migrate: bool = True,
    ):
        self.data_dir = data_dir
        self.port = free_port()
        self.tls = tls
        self.access_log = access_log
        self.serve_args = list(serve_args)
        self.migrate = migrate  # False: the database is migrated already (e.g. a read-only standby)
        self.env = {**os.environ, "YAPDNS_DATA_DIR": str(data_dir), "YAPDNS_DATABASE_URL": "", **(extra_env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def cli(self, *args: str, input: str | None = None) -> str:
        """Run a `yapdns` subcommand against this server's data directory; return its stdout."""
        done = subprocess.run(
            [*YAPDNS, *args], env=self.env, input=input, capture_output=True, text=True, check=False, timeout=120
        )
        if done.returncode:
            raise AssertionError(f"yapdns {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def sensor_token(self, name: str = "sensor-1") -> str:
        return self.cli("sensor", "add", name, "--token-only").strip()

    def query_token(self, user: str = "analyst", role: str = "analyst") -> str:
        self.cli("user", "add", user, "--role", role, "--update")
        return self.cli("token", "add", user).strip().splitlines()[-1]

    def add_user(self, name: str, role: str, password: str) -> None:
        self.cli("user", "add", name, "--role", role, "--password-stdin", input=password + "\n")

    def ingest(self, token: str, observations: Sequence[Observation], batch_id: str | None = None) -> dict[str, Any]:
        """POST ``observations`` as NDJSON with a sensor token; return the server's answer (raises on non-200)."""
        request = urllib.request.Request(
            self.url + "/api/v1/ingest",
            data=encode_ndjson(observations),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/x-ndjson",
                "X-Batch-Id": batch_id or str(uuid.uuid4()),
            },
        )
        with urllib.request.urlopen(request, timeout=60, context=self.ssl_context()) as reply:
            answer: dict[str, Any] = json.load(reply)
        return answer

    def ssl_context(self) -> ssl.SSLContext | None:
        return ssl._create_unverified_context() if self.tls else None  # the test's own certificate

    def start(self) -> Self:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.migrate:
            self.cli("migrate")
        args = [*YAPDNS, "serve", "--port", str(self.port), "--no-migrate", "--threads", "4"]
        if self.tls:
            args += ["--certfile", str(self.tls[0]), "--keyfile", str(self.tls[1])]
        if not self.access_log:
            args.append("--no-access-log")
        args += self.serve_args
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self._wait()
        return self

    def _wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=2, context=self.ssl_context()):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
