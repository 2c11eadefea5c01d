"""A data directory (SQLite) or a fresh PostgreSQL database for real `yapdns worker` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_URL, ROOT

FAST = {"YAPDNS_WORKER_HEARTBEAT": "1", "YAPDNS_WORKER_LEASE": "3", "YAPDNS_GEOIP_BUILTIN": "false"}  # no 113 MB load


class Queue:
    """A migrated application database, the workers started on it, and a way to enqueue and look."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.env = {**os.environ, "YAPDNS_DATA_DIR": str(data_dir), "YAPDNS_DATABASE_URL": database_url,
                    "PYTHONPATH": str(ROOT), **FAST}
        self.data_dir = data_dir
        self.workers: list[subprocess.Popen[bytes]] = []
        self._run([sys.executable, "-m", "yapdns", "migrate"])

    def _run(self, args: list[str]) -> str:
        done = subprocess.run(args, env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def enqueue(self, *jobs: tuple[str, dict[str, Any]]) -> None:
        self._run([sys.executable, "-m", "tests.server.workers.queue_cli", "enqueue", json.dumps(jobs)])

    def look(self) -> dict[str, Any]:
        out = self._run([sys.executable, "-m", "tests.server.workers.queue_cli", "status"])
        return json.loads(out)  # type: ignore[no-any-return]

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = (self.data_dir / f"worker-{len(self.workers)}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "yapdns", "worker", "--interval", "0.2"], env=self.env,
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def wait_for(self, done: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            state = self.look()
            if done(state) or time.monotonic() > deadline:
                return state
            time.sleep(0.3)

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _fresh_pg_database() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    name = f"yapdns_worker_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield PG_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Queue]:
    if request.param == "sqlite":
        urls: Iterator[str] = iter([""])
    else:
        urls = _fresh_pg_database()
    url = next(urls)
    q = Queue(tmp_path / "data", url)
    try:
        yield q
    finally:
        q.stop()
        next(urls, None)
