"""Readiness on a read-only PostgreSQL: a real hot standby, made by the test with Debian's PostgreSQL 15
binaries (initdb, a throwaway primary, pg_basebackup -R), under a real `yapdns serve`. Liveness stays up
(reads work); readiness is a 503 whose problems say "read-only" and why, for the record store and for the
application database; a write (ingest, a login) is a 503 with Retry-After, not a 500. A read-only primary
(default_transaction_read_only) is told apart, and `yapdns migrate` on a standby says what to do."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.live import YAPDNS, LiveServer, free_port
from yapdns.core.model import Observation
from yapdns.storage.postgres.store import PostgresStore

BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORD = "correct horse battery staple"
pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.skipif(not (BIN / "initdb").exists(), reason="Debian's postgresql-15 is not installed")]


def as_postgres(*cmd: str | Path) -> None:
    """Run a PostgreSQL binary; as root (initdb refuses root) through runuser as the postgres user."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run([*prefix, *map(str, cmd)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{cmd[0]}: {done.stderr}"


@dataclass
class Cluster:
    """One throwaway PostgreSQL server on a free loopback port."""

    data: Path
    port: int

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        as_postgres(BIN / "pg_ctl", "-D", self.data, "-l", self.data.parent / f"{self.data.name}.log",
                    "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        as_postgres(BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def url(self, db: str = "yapdns") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[Cluster, Cluster]]:
    """A primary with a migrated YAPDNS database, and its hot standby (in a directory the postgres user can
    reach: pytest's own is root's alone)."""
    root = Path(tempfile.mkdtemp(prefix="yapdns-standby-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    try:
        yield from _pair(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _pair(root: Path) -> Iterator[tuple[Cluster, Cluster]]:
    primary, standby = Cluster(root / "primary", free_port()), Cluster(root / "standby", free_port())
    as_postgres(BIN / "initdb", "-D", primary.data, "-U", "postgres", "-A", "trust", "--no-sync")
    primary.start()
    try:
        as_postgres(BIN / "createdb", "-h", "127.0.0.1", "-p", primary.port, "-U", "postgres", "yapdns")
        env = {**os.environ, "YAPDNS_DATABASE_URL": primary.url(), "YAPDNS_DATA_DIR": str(root / "app")}
        subprocess.run([*YAPDNS, "migrate"], env=env, check=True, capture_output=True, timeout=120)
        token = subprocess.run([*YAPDNS, "sensor", "add", "edge", "--token-only"], env=env, check=True,
                               capture_output=True, text=True, timeout=120).stdout.strip()
        (root / "sensor-token").write_text(token)  # made on the primary; the standby has it too
        subprocess.run([*YAPDNS, "user", "add", "ana", "--role", "analyst", "--password-stdin"], env=env,
                       input=PASSWORD + "\n", check=True, capture_output=True, text=True, timeout=120)
        as_postgres(BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", primary.port, "-U", "postgres",
                    "-D", standby.data, "-R", "-X", "stream", "-c", "fast", "--no-sync")
        standby.start()
        try:
            yield primary, standby
        finally:
            standby.stop()
    finally:
        primary.stop()


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def ingest_status(server: LiveServer, token: str) -> tuple[int, str | None, dict[str, object]]:
    """POST one observation; the status, Retry-After and body (ingest needs writes: a standby refuses)."""
    try:
        server.ingest(token, [Observation(rrname="a.example", rrtype="A", rdata=("192.0.2.1",),
                                          time_first=1_700_000_000, time_last=1_700_000_000, count=1)])
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After"), json.load(exc)
    return 200, None, {}


def test_a_standby_is_alive_but_not_ready(clusters: tuple[Cluster, Cluster], tmp_path: Path) -> None:
    primary, standby = clusters
    ready_primary = PostgresStore(primary.url())
    try:
        assert ready_primary.readiness() == []  # the same database, writable: ready
    finally:
        ready_primary.close()
    with LiveServer(tmp_path / "data", extra_env={"YAPDNS_DATABASE_URL": standby.url()}, migrate=False,
                    access_log=False, serve_args=["--workers", "1"]) as server:
        assert get(server.url + "/api/v1/health")[0] == 200
        status, body = get(server.url + "/api/v1/ready")
        ingest = ingest_status(server, (standby.data.parent / "sensor-token").read_text())
        with httpx.Client(base_url=server.url, timeout=10) as http:
            form = http.get("/login/")
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
            assert csrf, form.text[:300]
            signed = http.post("/login/", data={"username": "ana", "password": PASSWORD,
                                                "csrfmiddlewaretoken": csrf.group(1)})
    assert signed.status_code == 503 and "takes no writes" in signed.text  # the session cannot be saved
    assert ingest[0] == 503 and ingest[1] == "60" and "takes no writes" in str(ingest[2]["error"]), ingest
    assert status == 503 and body["status"] == "not ready", body
    assert body["problems"] == [
        "read-only: the record store's PostgreSQL is a standby (in recovery) and takes no writes; point the "
        "server at the primary",
        "read-only: the application database's PostgreSQL is a standby (in recovery) and takes no writes",
    ]


def test_a_read_only_primary_is_told_apart(clusters: tuple[Cluster, Cluster]) -> None:
    primary, _ = clusters
    with psycopg.connect(primary.url(), autocommit=True) as admin:
        admin.execute("ALTER DATABASE yapdns SET default_transaction_read_only = on")  # new sessions only
        store = PostgresStore(primary.url())
        try:
            assert store.readiness() == [
                "read-only: the record store's PostgreSQL takes no writes (default_transaction_read_only is on)"]
        finally:
            store.close()
            admin.execute("ALTER DATABASE yapdns RESET default_transaction_read_only")


def test_migrate_on_a_standby_says_so(clusters: tuple[Cluster, Cluster], tmp_path: Path) -> None:
    _, standby = clusters
    env = {**os.environ, "YAPDNS_DATABASE_URL": standby.url(), "YAPDNS_DATA_DIR": str(tmp_path)}
    done = subprocess.run([*YAPDNS, "migrate"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "takes no writes (a standby, or default_transaction_read_only): run `yapdns migrate` against the " \
           "primary" in done.stderr


def test_an_unreachable_server_is_named_so() -> None:
    store = PostgresStore(f"postgresql://postgres@127.0.0.1:{free_port()}/yapdns?connect_timeout=2")
    try:
        assert store.readiness() == ["PostgreSQL cannot be reached (PoolTimeout)"]
    finally:
        store.close()
