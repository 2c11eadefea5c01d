"""`yapdns serve` with several worker processes on PostgreSQL, and `yapdns agent`: their metrics are whole.

Batches are sent from several threads, and an agent ships a log file, while
the test scrapes the app's ``/metrics`` (with the token), the master's
loopback listener (``YAPDNS_METRICS_LISTEN``) and the agent's listener with
prometheus_client's own parser; at the end the figures equal what was sent,
whichever worker served each request.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.agent.live import AgentProcess, agent_config
from tests.conftest import PG_URL
from tests.live import LiveServer, free_port
from yapdns.core.model import Observation

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TOKEN = "metrics-live-token"
WORKERS = 3
BATCHES, PER_BATCH = 24, 5
AGENT_LINES, AGENT_BAD = 40, 3
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the store and the application data, dropped afterwards."""
    import psycopg

    name = f"yapdns_ops_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def workers_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def batch(i: int) -> list[Observation]:
    return [
        Observation(rrname=f"host{j}.batch{i}.example.com", rrtype="A", rdata=(f"192.0.2.{j + 1}",),
                    time_first=1700000000, time_last=1700000000 + i, count=1)
        for j in range(PER_BATCH)
    ]


def write_log(path: Path) -> None:
    good = [json.dumps({"rrname": f"a{i}.agent.example.net", "rrtype": "A", "rdata": "198.51.100.7",
                        "time_first": 1700000000, "time_last": 1700000000, "count": 2}) for i in range(AGENT_LINES)]
    path.write_text("\n".join(good + ["{not json"] * AGENT_BAD) + "\n")


def scrape_url(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return parse(reply.read().decode())


def agent_figures(url: str) -> Samples:
    """The agent's metrics once it has shipped everything it read (waits up to 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            figures = scrape_url(url)
        except OSError:
            figures = {}
        if figures.get(("yapdns_agent_shipper_observations_accepted_total", ()), 0) >= AGENT_LINES and figures.get(
            ("yapdns_agent_spool_batches", ()), 1) == 0:
            return figures
        assert time.monotonic() < deadline, f"the agent did not ship everything: {figures}"
        time.sleep(0.2)


def test_figures_of_all_workers_add_up_while_ingest_runs(tmp_path: Path, pg_database: str) -> None:
    listen = free_port()
    env = {"YAPDNS_DATABASE_URL": pg_database, "YAPDNS_METRICS_TOKEN": TOKEN,
           "YAPDNS_METRICS_LISTEN": f"127.0.0.1:{listen}", "YAPDNS_LOG_FORMAT": "json"}
    with LiveServer(tmp_path / "data", extra_env=env, serve_args=["--workers", str(WORKERS)]) as server:
        assert server.proc is not None
        deadline = time.monotonic() + 30  # the first worker answers health before the others are forked
        while len(workers_of(server.proc.pid)) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers_of(server.proc.pid)) == WORKERS
        sensor = server.sensor_token()
        scrapes: list[Samples] = []
        stop = threading.Event()

        def scrape_while_ingesting() -> None:
            with httpx.Client(base_url=server.url, timeout=10) as http:
                while not stop.is_set():
                    reply = http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
                    scrapes.append(parse(reply.text))

        def send(indices: range) -> None:
            for i in indices:
                assert server.ingest(sensor, batch(i), batch_id=f"b-{i}")["accepted"] == PER_BATCH

        write_log(tmp_path / "dns.cof")
        agent_port = free_port()
        (tmp_path / "agent").mkdir()
        config = agent_config(tmp_path / "agent" / "agent.yml", server.url, server.sensor_token("agent-1"),
                              [{"id": "cof-in", "format": "cof", "paths": [str(tmp_path / "dns.cof")]}],
                              metrics={"enabled": True, "port": agent_port})
        agent = AgentProcess(config).start()
        scraper = threading.Thread(target=scrape_while_ingesting)
        scraper.start()
        senders = [threading.Thread(target=send, args=(range(k, BATCHES, 4),)) for k in range(4)]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        assert server.ingest(sensor, batch(0), batch_id="b-0")["replayed"] is True
        try:
            shipped = agent_figures(f"http://127.0.0.1:{agent_port}/metrics")
        finally:
            assert agent.stop() == 0
            stop.set()
            scraper.join()

        with urllib.request.urlopen(f"http://127.0.0.1:{listen}/metrics", timeout=10) as reply:
            listener = parse(reply.read().decode())
        with httpx.Client(base_url=server.url, timeout=10) as http:
            app = parse(http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text)

    assert len(scrapes) >= 2
    agent_batches = shipped[("yapdns_agent_shipper_batches_acked_total", ())]
    assert shipped[("yapdns_agent_input_lines_total", (("input", "cof-in"),))] == AGENT_LINES + AGENT_BAD
    assert shipped[("yapdns_agent_input_parse_errors_total", (("input", "cof-in"), ("reason", "parse_error")))] == AGENT_BAD
    assert shipped[("yapdns_agent_input_observations_total", (("input", "cof-in"),))] == AGENT_LINES
    assert shipped[("yapdns_agent_input_read_bytes_total", (("input", "cof-in"),))] == (tmp_path / "dns.cof").stat().st_size
    assert shipped[("yapdns_agent_shipper_observations_accepted_total", ())] == AGENT_LINES
    assert shipped[("yapdns_agent_shipper_backlog_age_seconds", ())] == 0
    assert shipped[("yapdns_agent_shipper_request_duration_seconds_count", ())] >= agent_batches >= 1
    for figures in (listener, app):
        assert figures[("yapdns_ingest_batches_total", (("outcome", "applied"),))] == BATCHES + agent_batches
        assert figures[("yapdns_ingest_batches_total", (("outcome", "replayed"),))] == 1
        assert figures[("yapdns_ingest_observations_total", ())] == BATCHES * PER_BATCH + AGENT_LINES
        ingest_ok = figures[("yapdns_http_requests_total", (("family", "ingest"), ("status", "2xx")))]
        assert ingest_ok == BATCHES + 1 + agent_batches
        assert figures[("yapdns_store_rows", (("kind", "records"),))] == BATCHES * PER_BATCH + AGENT_LINES
    served = {line for line in server.log.read_text().splitlines() if '"logger": "yapdns.access"' in line}
    assert any('"batch_id": "b-3"' in line and '"sensor": "sensor-1"' in line for line in served)
    counts = [s.get(("yapdns_ingest_observations_total", ()), 0) for s in scrapes]
    assert counts == sorted(counts)  # counters never go backwards between scrapes of different workers
