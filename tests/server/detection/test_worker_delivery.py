"""With only `yapdns serve` and `yapdns worker` running, a watchlist hit becomes a delivered, signed webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.live import YAPDNS, LiveServer
from tests.server.detection.test_delivery import Webhook
from tests.server.workers.conftest import FAST
from yapdns.core.model import Observation

pytestmark = pytest.mark.slow
SECRET = "worker-s3cret"


def _hunted(data_dir: Path) -> bool:
    with sqlite3.connect(data_dir / "app.sqlite3", timeout=30) as conn:
        return bool(conn.execute("SELECT hunted_at FROM detection_watchlistentry").fetchone()[0])


def _wait(done: Callable[[], bool], worker: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.2)


def test_a_watchlist_hit_is_delivered_by_the_worker(tmp_path: Path) -> None:
    hook = Webhook()
    env = {**FAST, "YAPDNS_ALERT_WEBHOOK_URL": hook.url, "YAPDNS_ALERT_WEBHOOK_SECRET": SECRET}
    server = LiveServer(tmp_path / "data", extra_env=env, access_log=False)
    worker: subprocess.Popen[bytes] | None = None
    try:
        server.start()
        server.cli("detection", "watch", "*.evil.example", "--label", "c2", "--tlp", "amber")
        token = server.sensor_token("dc1")
        with (tmp_path / "worker.log").open("ab") as log:
            worker = subprocess.Popen([*YAPDNS, "worker", "--interval", "0.2"], env=server.env, stdout=log,
                                      stderr=subprocess.STDOUT)
        _wait(lambda: _hunted(tmp_path / "data"), worker)  # the worker's detection round ran (empty history)
        seen = Observation(rrname="c2.evil.example", rrtype="A", rdata=("203.0.113.7",),
                           time_first=1_765_000_000, time_last=1_765_000_060, count=3)
        quiet = Observation(rrname="www.example.org", rrtype="A", rdata=("192.0.2.1",),
                            time_first=1_765_000_000, time_last=1_765_000_000)
        assert server.ingest(token, [seen, quiet])["accepted"] == 2
        _wait(lambda: bool(hook.received), worker)
        assert hook.received, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(1.5)  # a second delivery of the same alert would arrive within the next runs
        [(headers, body)] = hook.received
        assert headers["X-YAPDNS-Signature"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        payload = json.loads(body)
        assert payload["record"] == {"rrname": "c2.evil.example", "rrtype": "A", "rdata": "203.0.113.7"}
        assert (payload["sensor"], payload["count"], payload["tlp"]) == ("dc1", 3, "amber")
        assert payload["entry"]["value"] == "*.evil.example" and payload["origin"] == "live"
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        server.stop()
        hook.close()
