"""`yapdns backup` and `yapdns restore` on the embedded default, while a real server ingests; `migrate --plan`."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from tests.live import YAPDNS, LiveServer
from yapdns.core.model import Observation
from yapdns.storage.query import NameMatch, RecordQuery
from yapdns.storage.sqlite.store import SqliteStore

PER_BATCH = 20
GENERATED_KEY = {"YAPDNS_SECRET_KEY": ""}  # the key generated into the data directory, which a backup carries


def cli(data: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "YAPDNS_DATA_DIR": str(data), "YAPDNS_DATABASE_URL": "", **GENERATED_KEY, **(env or {})}
    return subprocess.run([*YAPDNS, *args], env=full, capture_output=True, text=True, check=False, timeout=120)


def batch(i: int) -> list[Observation]:
    return [Observation(rrname=f"h{j}.b{i}.backup.example", rrtype="A", rdata=("192.0.2.9",), time_first=1700000000,
                        time_last=1700000000, count=1) for j in range(PER_BATCH)]


@pytest.mark.slow
def test_a_backup_taken_while_ingest_runs_restores_whole_batches_and_the_logins(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "live", access_log=False, extra_env=GENERATED_KEY) as server:
        sensor, query = server.sensor_token(), server.query_token()
        sent: list[int] = []
        stop = threading.Event()

        def ingest() -> None:
            i = 0
            while not stop.is_set():
                server.ingest(sensor, batch(i), batch_id=f"b{i}")
                sent.append(i)
                i += 1

        sender = threading.Thread(target=ingest)
        sender.start()
        try:
            while len(sent) < 3:
                stop.wait(0.05)
            done = cli(server.data_dir, "backup", str(tmp_path / "backup"))
        finally:
            stop.set()
            sender.join()
        assert done.returncode == 0, done.stderr
        secret = (server.data_dir / "secret_key").read_text()

    backup = tmp_path / "backup"
    assert oct(backup.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in backup.iterdir() if p.name != "manifest.json")
    assert set(json.loads((backup / "manifest.json").read_text())["files"]) == {"store.sqlite3", "app.sqlite3",
                                                                                  "secret_key"}
    restored = tmp_path / "restored"
    done = cli(restored, "restore", str(backup))
    assert done.returncode == 0, done.stderr
    assert (restored / "secret_key").read_text() == secret
    store = SqliteStore(restored / "store.sqlite3")
    try:
        per_batch = [len(store.records(RecordQuery(rrname=NameMatch.parse(f"*.b{i}.backup.example"))).rows)
                     for i in sent]
    finally:
        store.close()
    assert set(per_batch) <= {0, PER_BATCH}, per_batch  # every batch whole or absent: one committed state
    assert per_batch[:3] == [PER_BATCH] * 3 and per_batch == sorted(per_batch, reverse=True)
    with LiveServer(restored, access_log=False, extra_env=GENERATED_KEY) as again:  # the restored users and tokens work
        records = httpx.get(again.url + "/api/v1/records", params={"q": "*.b0.backup.example"},
                            headers={"Authorization": f"Bearer {query}"}, timeout=10)
        assert records.status_code == 200 and len(records.json()["records"]) == PER_BATCH


def test_restore_refuses_to_overwrite_or_to_use_a_damaged_backup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli(data, "migrate").returncode == 0
    assert cli(data, "backup", str(tmp_path / "b")).returncode == 0
    assert cli(data, "backup", str(tmp_path / "b")).returncode == 1  # never into a backup that is there
    refused = cli(data, "restore", str(tmp_path / "b"))
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert cli(data, "restore", "--force", str(tmp_path / "b")).returncode == 0
    with (tmp_path / "b" / "app.sqlite3").open("r+b") as fh:
        fh.seek(200)
        fh.write(b"\xff")
    damaged = cli(tmp_path / "other", "restore", str(tmp_path / "b"))
    assert damaged.returncode == 1 and "damaged" in damaged.stderr
    assert not (tmp_path / "other" / "store.sqlite3").exists()


def test_backup_points_postgresql_users_to_pg_dump(tmp_path: Path) -> None:
    done = cli(tmp_path, "backup", str(tmp_path / "b"), env={"YAPDNS_DATABASE_URL": "postgresql://x@127.0.0.1/none"})
    assert done.returncode == 1 and "pg_dump" in done.stderr


def test_migrate_plan_lists_what_would_run_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    old = SqliteStore(data / "store.sqlite3")
    old.migrate(through=2)
    old.close()
    for _ in range(2):
        plan = cli(data, "migrate", "--plan")
        assert plan.returncode == 0, plan.stderr
        assert "record store (sqlite): 0003_zone_times, 0004_unbroken_rdata" in plan.stdout
        assert "Planned operations" in plan.stdout and "auth.0001_initial" in plan.stdout
    assert cli(data, "migrate").returncode == 0
    plan = cli(data, "migrate", "--plan")
    assert "record store (sqlite): up to date" in plan.stdout and "No planned migration operations" in plan.stdout


@pytest.mark.postgres
def test_pg_dump_and_pg_restore_as_documented_keep_every_record(tmp_path: Path) -> None:
    """docs/operations.md, Backups: `pg_dump -Fc` of the database, `pg_restore` into a new one."""
    import psycopg

    from tests.conftest import PG_URL
    from yapdns.storage.postgres.store import PostgresStore

    names = [f"yapdns_dump_{os.getpid()}_{n}" for n in ("a", "b")]
    base = PG_URL.rsplit("/", 1)[0]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        source = PostgresStore(f"{base}/{names[0]}")
        source.migrate()
        source.write(batch(1) + batch(2))
        before = source.stats()
        source.close()
        dump = tmp_path / "yapdns.dump"
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump), f"{base}/{names[0]}"], check=True, capture_output=True)
        subprocess.run(["pg_restore", "--no-owner", "-d", f"{base}/{names[1]}", str(dump)], check=True,
                       capture_output=True)
        copy = PostgresStore(f"{base}/{names[1]}")
        try:
            assert copy.pending_migrations() == []
            assert copy.stats() == msgspec_replace_size(before, copy.stats().size_bytes)
            rows = copy.records(RecordQuery(rrname=NameMatch.parse("*.b2.backup.example"))).rows
            assert len(rows) == PER_BATCH
        finally:
            copy.close()
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def msgspec_replace_size(stats: object, size: int | None) -> object:
    import msgspec

    return msgspec.structs.replace(stats, size_bytes=size)  # type: ignore[type-var]
