"""The agent against the real server, in real processes: what reaches the server equals the input, exactly.

Every test writes real log lines (a replay of a real COF export) while the
agent runs, provokes a failure (rotation, truncation, restart, server
outage, ``kill -9``, hostile lines), and then compares what the server
stored for its own sensor with the exact totals of the lines written:
first, last and count per record. A lost line or a line counted twice
changes a count.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest
import yaml

from tests.agent.conftest import SENSOR, SharedServer
from tests.agent.helpers import Totals, cof_line, expected_totals, wait_for
from tests.agent.live import AgentProcess, agent_config, certificate_for_localhost, run_once, stored_totals
from tests.live import YAPDNS, LiveServer, free_port
from yapdns.agent.positions import Checkpoint, encode_checkpoint
from yapdns.agent.spool import DiskSpool


class Scenario:
    """One test's sub-sensor (``agent-tests/<test>``: the server keeps its counts apart), logs and totals."""

    def __init__(self, shared: SharedServer, tmp_path: Path, name: str) -> None:
        self.shared = shared
        self.server = shared.live
        self.token = shared.token
        self.sub_sensor = name
        self.sensor = f"{SENSOR}/{name}"
        self.dir = tmp_path
        self.logs = tmp_path / "logs"
        self.logs.mkdir()
        self.written: list[str] = []

    def config(self, pattern: str = "query.log*", **sections: dict[str, object]) -> Path:
        inputs = [{"format": "cof", "paths": [str(self.logs / pattern)], "sensor": self.sub_sensor}]
        return agent_config(self.dir / "agent.yml", self.server.url, self.token, inputs, **sections)

    def write(self, path: Path, n: int) -> None:
        lines = [cof_line(len(self.written) + i) for i in range(n)]
        with path.open("a") as fh:
            fh.write("".join(lines))
        self.written += lines

    def expected(self) -> Totals:
        return expected_totals(self.written)

    def stored(self) -> Totals:
        return stored_totals(self.server, self.shared.query_token, self.expected(), self.sensor)

    def wait_exact(self, timeout: float = 30) -> None:
        expected = self.expected()
        deadline = time.monotonic() + timeout
        while (stored := self.stored()) != expected:
            if time.monotonic() > deadline or any(k in stored and stored[k][1] > v[1] for k, v in expected.items()):
                break
            time.sleep(0.2)
        assert stored == expected


@pytest.fixture
def scenario(server: SharedServer, tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    name = re.sub(r"[^A-Za-z0-9.-]+", "-", request.node.name.removeprefix("test_"))[:60]
    return Scenario(server, tmp_path, name)


def test_rename_rotation_while_writing(scenario: Scenario) -> None:
    agent = AgentProcess(scenario.config()).start()
    log = scenario.logs / "query.log"
    try:
        for rotation in range(4):
            for _ in range(10):
                scenario.write(log, 25)
                time.sleep(0.01)
            for n in range(rotation, 0, -1):  # query.log.1 -> .2, ...
                (scenario.logs / f"query.log.{n}").rename(scenario.logs / f"query.log.{n + 1}")
            log.rename(scenario.logs / "query.log.1")
        scenario.write(log, 30)
        scenario.wait_exact()
    finally:
        assert agent.stop() == 0


def test_copytruncate_while_writing(scenario: Scenario) -> None:
    agent = AgentProcess(scenario.config()).start()
    log = scenario.logs / "query.log"
    try:
        for rotation in range(1, 4):
            for _ in range(10):
                scenario.write(log, 25)
                time.sleep(0.01)
            shutil.copyfile(log, scenario.logs / f"query.log.{rotation}")  # logrotate's copytruncate,
            os.truncate(log, 0)  # with the writer quiet in between, so the test knows every line
        scenario.write(log, 30)
        scenario.wait_exact()
    finally:
        assert agent.stop() == 0


def test_truncation_while_writing(scenario: Scenario) -> None:
    agent = AgentProcess(scenario.config("query.log")).start()
    log = scenario.logs / "query.log"
    try:
        for _ in range(3):
            scenario.write(log, 200)
            scenario.wait_exact()  # everything so far was read: truncating now loses nothing
            os.truncate(log, 0)
        scenario.write(log, 500)  # regrows past the old offset at once
        scenario.wait_exact()
    finally:
        assert agent.stop() == 0


def test_restart_resumes_from_the_registry(scenario: Scenario) -> None:
    config = scenario.config()
    log = scenario.logs / "query.log"
    scenario.write(log, 300)
    agent = AgentProcess(config).start()
    scenario.wait_exact()
    assert agent.stop() == 0
    scenario.write(log, 300)  # written while the agent is down
    agent = AgentProcess(config).start()
    try:
        scenario.wait_exact()
        scenario.write(log, 100)
        scenario.wait_exact()
    finally:
        assert agent.stop() == 0


def test_server_down_spools_then_delivers_everything(scenario: Scenario, tmp_path: Path) -> None:
    later = LiveServer(scenario.server.data_dir)  # the same store, on a port where nothing answers yet
    config = scenario.config(
        output={"url": later.url},
        spool={"max_bytes": "8KiB", "segment_bytes": "4KiB"},
        aggregate={"window": "50ms", "max_keys": 4},  # the sample has 8 records: every read fills the window
    )
    log = scenario.logs / "query.log"
    agent = AgentProcess(config).start()
    wait_for(lambda: bool(agent.stats().get("inputs")), what="the agent to start")
    try:
        for _ in range(60):
            scenario.write(log, 100)
            time.sleep(0.02)
        wait_for(lambda: agent.stats().get("spool", {}).get("bytes", 0) >= 8 << 10, what="a full spool")
        time.sleep(0.5)
        stats = agent.stats()
        assert stats["shipper"]["batches_acked"] == 0 and stats["pipeline"]["observations_dropped"] == 0
        assert stats["inputs"][0]["lines"] < len(scenario.written)  # backpressure: it stopped reading
        later.start()
        scenario.wait_exact(timeout=60)
    finally:
        assert agent.stop() == 0
        later.stop()


def test_kill_9_at_random_points_neither_loses_nor_doubles(scenario: Scenario) -> None:
    config = scenario.config(  # small batches, 4 in flight: kills land between answers that came out of order
        output={"batch_size": 50, "in_flight": 4}, aggregate={"window": "30ms"}, logging={"level": "debug"}
    )
    log = scenario.logs / "query.log"
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            scenario.write(log, 20)
            if len(scenario.written) % 400 == 0:
                log.rename(scenario.logs / f"query.log.{len(scenario.written)}")
            time.sleep(0.005)

    thread = threading.Thread(target=writer)
    thread.start()
    rng = random.Random(20240)
    try:
        for _ in range(12):
            agent = AgentProcess(config).start()
            time.sleep(rng.uniform(0.2, 1.5))  # while starting, reading, committing, shipping...
            agent.kill()
    finally:
        stop.set()
        thread.join()
    agent = AgentProcess(config).start()
    try:
        scenario.wait_exact(timeout=60)
    finally:
        assert agent.stop() == 0


def test_sighup_adds_an_input(scenario: Scenario) -> None:
    config = scenario.config("query.log")
    agent = AgentProcess(config).start()
    try:
        scenario.write(scenario.logs / "query.log", 50)
        scenario.wait_exact()
        doc = yaml.safe_load(config.read_text())
        doc["inputs"].append({**doc["inputs"][0], "id": "second", "paths": [str(scenario.logs / "other.log")]})
        config.write_text(yaml.safe_dump(doc))
        agent.signal(signal.SIGHUP)
        scenario.write(scenario.logs / "other.log", 50)
        scenario.wait_exact()
        ids = {i["id"] for i in agent.stats()["inputs"]}
        assert ids == {"cof", "second"}
    finally:
        assert agent.stop() == 0


def test_once_backfill_with_hostile_lines(scenario: Scenario) -> None:
    log = scenario.logs / "export.ndjson"
    scenario.write(log, 100)
    with log.open("ab") as fh:
        fh.write(b'{"rrname": "' + b"a" * (1 << 20) + b'"}\n')  # huge
        fh.write(b'{"rrname":"caf\xe9\xff.example","rrtype":"A","rdata":"192.0.2.1","time_first":1,"time_last":2}\n')
        fh.write(bytes(b for b in range(256) if b != 10) + b"\n")
    scenario.write(log, 50)
    done = run_once(
        "-F", "cof", "--url", scenario.server.url, "--token", scenario.token, "--sensor", scenario.sub_sensor, str(log)
    )
    assert done.returncode == 0, done.stderr
    assert "bad_lines=3" in done.stderr and "line_too_long" in done.stderr
    scenario.wait_exact(timeout=5)


def test_once_exits_non_zero_when_the_server_is_unreachable(scenario: Scenario) -> None:
    log = scenario.logs / "export.ndjson"
    scenario.write(log, 10)
    url = f"http://127.0.0.1:{free_port()}"
    done = run_once("-F", "cof", "--url", url, "--token", scenario.token, "--timeout", "2", str(log))
    assert done.returncode == 1
    assert "not delivered" in done.stderr and "--data" in done.stderr


def test_a_batch_the_server_refuses_is_quarantined(scenario: Scenario) -> None:
    config = scenario.config()
    data = scenario.dir / "agent-data"
    planted = DiskSpool(data / "spool", max_bytes=1 << 20, segment_bytes=1 << 16)
    planted.open()  # a batch a buggy agent could have spooled: the server answers 400
    planted.commit([("planted-bad", 1, gzip.compress(b"{not json\n"))], encode_checkpoint(Checkpoint(1)), 1)
    planted.close()
    scenario.write(scenario.logs / "query.log", 20)
    done = run_once("-c", str(config))
    assert done.returncode == 1
    assert "1 batches quarantined" in done.stderr
    note = json.loads((data / "quarantine" / "planted-bad.json").read_text())
    assert note["status"] == 400 and "line 1" in note["message"]
    scenario.wait_exact(timeout=5)  # the good batches behind it were delivered


def test_a_wrong_token_keeps_everything_for_a_rerun(scenario: Scenario) -> None:
    log = scenario.logs / "export.ndjson"
    scenario.write(log, 30)
    data = scenario.dir / "kept"
    common = ["-F", "cof", "--url", scenario.server.url, "--sensor", scenario.sub_sensor, "--data", str(data)]
    refused = run_once(*common, "--token", "ys_wrong", "--timeout", "3", str(log))
    assert refused.returncode == 1 and "not delivered" in refused.stderr
    stats = json.loads((data / "stats.json").read_text())
    assert "401" in stats["shipper"]["last_error"] and stats["shipper"]["batches_quarantined"] == 0
    assert scenario.stored() == {}
    done = run_once(*common, "--token", scenario.token, str(log))  # the registry says the file is read: ship only
    assert done.returncode == 0, done.stderr
    assert "lines=0" in done.stderr
    scenario.wait_exact(timeout=5)


def test_stats_and_check_commands(scenario: Scenario) -> None:
    config = scenario.config()
    checked = subprocess.run(
        [*YAPDNS, "agent", "-c", str(config), "--check"], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0 and "input cof: type log, format cof" in checked.stdout
    agent = AgentProcess(config).start()
    try:
        scenario.write(scenario.logs / "query.log", 40)
        scenario.wait_exact()
        wait_for(lambda: agent.stats().get("shipper", {}).get("batches_acked", 0) >= 1, what="fresh stats")
        stats = agent.stats()
        assert stats["inputs"][0]["lines"] == 40 and stats["inputs"][0]["state"] == "running"
        assert stats["pipeline"]["observations_in"] == 40
        assert stats["spool"]["corrupt_frames"] == 0
    finally:
        assert agent.stop() == 0


def test_tls_with_a_private_ca(tmp_path: Path) -> None:
    """HTTPS to a server whose certificate only ``ca_file`` vouches for: verified, and refused without it."""
    cert, key = certificate_for_localhost(tmp_path)
    with LiveServer(tmp_path / "tls-server", tls=(cert, key)) as live:
        token, query = live.sensor_token("tls"), live.query_token()
        log = tmp_path / "export.ndjson"
        lines = [cof_line(i) for i in range(30)]
        log.write_text("".join(lines))
        common = ["-F", "cof", "--url", live.url, "--token", token]
        refused = run_once(*common, "--timeout", "3", "--data", str(tmp_path / "kept"), str(log))
        assert refused.returncode == 1
        stats = json.loads((tmp_path / "kept" / "stats.json").read_text())
        assert "CERTIFICATE_VERIFY_FAILED" in stats["shipper"]["last_error"]
        done = run_once(*common, "--ca-file", str(cert), str(log))
        assert done.returncode == 0, done.stderr
        expected = expected_totals(lines)
        assert stored_totals(live, query, expected, "tls") == expected


def test_an_upload_cut_by_a_dying_agent_does_not_spend_its_batch_id(scenario: Scenario) -> None:
    """An agent killed while sending: the server must not record the batch id for what arrived."""
    lines = [cof_line(i) for i in range(16)]
    body = "".join(lines).encode()
    cut = body[: body.index(b"\n", len(body) // 2) + 1]  # whole lines only: it would parse fine
    url = urllib.parse.urlsplit(scenario.server.url)
    with socket.create_connection((url.hostname, url.port)) as sock:
        head = (
            f"POST /api/v1/ingest HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {scenario.token}\r\n"
            f"Content-Type: application/x-ndjson\r\nX-Batch-Id: cut-{scenario.sub_sensor}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + cut)
        sock.shutdown(socket.SHUT_WR)  # the agent dies here
        sock.recv(4096)
    reply = httpx.post(
        f"{scenario.server.url}/api/v1/ingest",
        content=body,
        headers={
            "Authorization": f"Bearer {scenario.token}",
            "Content-Type": "application/x-ndjson",
            "X-Batch-Id": f"cut-{scenario.sub_sensor}",
        },
    )
    assert reply.status_code == 200 and reply.json()["replayed"] is False
    assert reply.json()["accepted"] == len(lines)
