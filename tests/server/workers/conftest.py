"""A data directory (SQLite) or a fresh PostgreSQL database for real `yapdns worker` processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_URL, ROOT

FAST = {"YAPDNS_WORKER_HEARTBEAT": "1", "YAPDNS_WORKER_LEASE": "3", "YAPDNS_GEOIP_BUILTIN": "false"}  # no 113 MB load


class Queue:
    """A migrated application database, the workers started on it, and a way to enqueue and look."""

    def __init__(self, data_dir: Path, database_url: str, *, migrate: bool = True) -> None:
        self.env = {**os.environ, "YAPDNS_DATA_DIR": str(data_dir), "YAPDNS_DATABASE_URL": database_url,
                    "PYTHONPATH": str(ROOT), **FAST}
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.workers: list[subprocess.Popen[bytes]] = []
        if migrate:
            self._run([sys.executable, "-m", "yapdns", "migrate"])

    def _run(self, args: list[str]) -> str:
        done = subprocess.run(args, env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def enqueue(self, *jobs: tuple[str, dict[str, Any]]) -> None:
        self._run([sys.executable, "-m", "tests.server.workers.queue_cli", "enqueue", json.dumps(jobs)])

    def look(self) -> dict[str, Any]:
        """The task rows and ``services.queue_status()``, from a process of the workers' environment (slow)."""
        out = self._run([sys.executable, "-m", "tests.server.workers.queue_cli", "status"])
        return json.loads(out)  # type: ignore[no-any-return]

    def _sql(self, text: str) -> list[tuple[Any, ...]]:
        url = self.env["YAPDNS_DATABASE_URL"]
        if url:
            import psycopg

            with psycopg.connect(url) as conn:
                return conn.execute(text).fetchall()
        with sqlite3.connect(self.data_dir / "app.sqlite3", timeout=30) as conn:
            return conn.execute(text).fetchall()

    def rows(self) -> list[dict[str, Any]]:
        """The task rows, read straight from the database (fast enough to poll)."""
        found = self._sql("SELECT task_path, status, worker_ids FROM django_tasks_database_dbtaskresult "
                          "ORDER BY enqueued_at")
        return [{"task": path.rsplit(".", 1)[1], "status": status,
                 "workers": json.loads(ids) if isinstance(ids, str) else ids} for path, status, ids in found]

    def beating(self) -> int:
        return int(self._sql("SELECT count(*) FROM workers_workerbeat")[0][0])

    def poll(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.rows()
            if done(found) or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = (self.data_dir / f"worker-{len(self.workers)}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "yapdns", "worker", "--interval", "0.2"], env=self.env,
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

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


def _pg_url(name: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + name


@contextmanager
def _pg_database(template: str | None = None) -> Iterator[str]:
    """A new database (a copy of ``template`` when given), dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    name = f"yapdns_worker_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        try:
            yield name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Migrated once per session: a SQLite data directory and a PostgreSQL template database, copied per test."""
    sqlite_dir = tmp_path_factory.mktemp("worker-template") / "data"
    Queue(sqlite_dir, "")
    with _pg_database() as template:
        Queue(tmp_path_factory.mktemp("worker-pg") / "data", _pg_url(template))
        yield {"sqlite": str(sqlite_dir), "postgres": template}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def queue(request: pytest.FixtureRequest, tmp_path: Path, migrated: dict[str, str]) -> Iterator[Queue]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = ""
            shutil.copytree(migrated["sqlite"], tmp_path / "data")
        else:
            url = _pg_url(stack.enter_context(_pg_database(template=migrated["postgres"])))
        q = Queue(tmp_path / "data", url, migrate=False)
        stack.callback(q.stop)
        yield q
