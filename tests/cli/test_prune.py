"""`yapdns prune` in its own process while `yapdns serve` ingests: the window is kept, old records go, and a
pruned record sent again is stored afresh (the server's writer had cached its row id)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.test_backup import cli
from tests.live import LiveServer
from yapdns.core.model import Observation
from yapdns.core.normalize import normalize_observation
from yapdns.storage.query import NameMatch, RecordQuery

OLD = 1_600_000_000  # 2020: outside any window of days
PER_BATCH = 10


def observations(tag: str, when: int, n: int = PER_BATCH, count: int = 1) -> list[Observation]:
    return [Observation(rrname=f"h{j}.{tag}.prune.example", rrtype="A", rdata=(f"198.51.100.{j + 1}",),
                        time_first=when, time_last=when, count=count) for j in range(n)]


@pytest.mark.slow
def test_prune_while_the_server_ingests(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "data", access_log=False) as server:
        sensor, query = server.sensor_token(), server.query_token()
        for i in range(5):
            server.ingest(sensor, observations(f"old{i}", OLD, count=7), batch_id=f"old-{i}")
            server.ingest(sensor, observations(f"old{i}", OLD, count=7), batch_id=f"old-again-{i}")  # by cached ids
        sent: list[str] = []
        stop = threading.Event()

        def ingest() -> None:
            i = 0
            while not stop.is_set():
                server.ingest(sensor, observations(f"new{i}", int(time.time())), batch_id=f"new-{i}")
                sent.append(f"new{i}")
                i += 1

        thread = threading.Thread(target=ingest)
        thread.start()
        try:
            while not sent:  # a fresh row holds the highest id, so every old row can go
                time.sleep(0.05)
            dry = cli(server.data_dir, "prune", "--days", "30", "--dry-run")
            done = cli(server.data_dir, "prune", "--days", "30")
        finally:
            stop.set()
            thread.join()
        assert dry.returncode == 0 and "would remove: 50 records" in dry.stdout, dry.stdout + dry.stderr
        assert done.returncode == 0 and "removed: 50 records" in done.stdout, done.stdout + done.stderr

        server.ingest(sensor, observations("old0", OLD + 1, count=2), batch_id="old-back")
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {query}"}, timeout=10) as http:
            def found(pattern: str) -> list[dict[str, object]]:
                """Every record matching, page by page (the ingest thread may have sent over 1,000)."""
                rows: list[dict[str, object]] = []
                params: dict[str, str | int] = {"q": pattern, "limit": 1000}
                while True:
                    page = http.get("/api/v1/records", params=params).json()
                    rows += page["records"]
                    if not page["next_cursor"]:
                        return rows
                    params["cursor"] = page["next_cursor"]

            assert len(found("*.prune.example")) == PER_BATCH * (len(sent) + 1)
            back = found("*.old0.prune.example")
            assert {(r["count"], r["time_first"]) for r in back} == {(2, OLD + 1)}  # afresh, not 7 + 7 + 2
            assert found("*.old3.prune.example") == []


def test_prune_follows_the_retention_settings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli(data, "migrate").returncode == 0
    off = cli(data, "prune")
    assert off.returncode == 0 and "retention is off" in off.stdout
    on = cli(data, "prune", env={"YAPDNS_RETENTION_DAYS": "30", "YAPDNS_RETENTION_NEGATIVE_DAYS": "7"})
    assert on.returncode == 0 and on.stdout.startswith("removed: 0 records"), on.stdout + on.stderr


def test_prune_rules_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dry run prints each rule's count; the real run keeps what another sensor saw; a bad rule is refused."""
    data = tmp_path / "data"
    assert cli(data, "migrate").returncode == 0
    monkeypatch.setenv("YAPDNS_DATA_DIR", str(data))
    monkeypatch.setenv("YAPDNS_DATABASE_URL", "")
    from yapdns.cli.context import store_session

    def seen(name: str, rrtype: str, rdata: str, sensor: str, when: int = OLD) -> Observation:
        return normalize_observation(Observation(rrname=name, rrtype=rrtype, rdata=(rdata,), time_first=when,
                                                 time_last=when, sensor_id=sensor))

    with store_session() as store:
        store.write([seen("lab.rules.example", "A", "192.0.2.1", "lab"), seen("both.rules.example", "A", "192.0.2.2",
                     "lab"), seen("both.rules.example", "A", "192.0.2.2", "s1"),
                     seen("txt.rules.example", "TXT", '"x"', "s1")])
        store.write([seen("fresh.rules.example", "A", "192.0.2.3", "s1", int(time.time()))])  # the highest ids
    rules = ["--rule", "type:TXT=30", "--rule", "sensor:lab=30"]
    dry = cli(data, "prune", "--dry-run", *rules)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "would remove: 2 records, 1 RRsets, 0 negative answers, 0 bare queries, 0 name-sample links",
        "  rule type:TXT=30: applies to 2 of them", "  rule sensor:lab=30: applies to 1 of them"]
    done = cli(data, "prune", env={"YAPDNS_RETENTION_RULES": "type:TXT=30, sensor:lab=30"})
    assert done.stdout.startswith("removed: 2 records, 1 RRsets"), done.stdout + done.stderr
    with store_session() as store:
        assert sorted(r.rrname for r in store.iter_records(RecordQuery(
            rrname=NameMatch.parse("*.rules.example")))) == ["both.rules.example", "fresh.rules.example"]
    bad = cli(data, "prune", "--rule", "colour:red=3")
    assert bad.returncode == 1 and "KIND:VALUE=DAYS" in bad.stderr and "Traceback" not in bad.stderr
    at_start = cli(data, "check", env={"YAPDNS_RETENTION_RULES": "type:TXT=7, sensor:lab=soon"})  # as serve, worker
    assert at_start.returncode == 1 and "'sensor:lab=soon'" in at_start.stderr, at_start.stderr
