"""A server process killed (SIGKILL) after acknowledging a batch but before folding its watchlist matches into
alerts loses none of them: the kept match is folded by the next fold (here `yapdns detection jobs --once`), and a
replay of the batch afterwards counts nothing twice. Real processes, the real application database file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import YAPDNS

pytestmark = pytest.mark.slow

# The ingest path of `yapdns serve` (IngestService with the API's hooks, a folding thread that has not run yet),
# then SIGKILL right after the batch is acknowledged.
CHILD = """
import os, signal, sys
from yapdns.server.setup import setup_django
setup_django()
from yapdns.core.batch import DecodedBatch
from yapdns.core.model import Observation
from yapdns.ingest import IngestService
from yapdns.server.detection import live
from yapdns.server.store import get_store
assert live.start_folder() is not None  # the serve worker's thread (its interval is an hour here)
seen = Observation(rrname="c2.evil.example", rrtype="A", rdata=("203.0.113.7",), time_first=1_765_000_000,
                   time_last=1_765_000_060, count=3)
result = IngestService(get_store(), live.ingest_hooks()).submit("dc1", DecodedBatch("batch-1", [seen], []))
print("replayed" if result.replayed else "acked", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _ingest_then_die(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    return done.stdout.strip()


def _rows(data: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(data / "app.sqlite3", timeout=30) as conn:
        return conn.execute(sql).fetchall()


def test_a_match_acknowledged_before_a_kill_is_folded_after_it_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "YAPDNS_DATA_DIR": str(data), "YAPDNS_DATABASE_URL": "", "YAPDNS_MATCH_FOLD_INTERVAL": "3600"}

    def cli(*args: str) -> str:
        return subprocess.run([*YAPDNS, *args], env=env, capture_output=True, text=True, check=True, timeout=120).stdout

    cli("migrate")
    cli("detection", "watch", "*.evil.example")
    cli("detection", "jobs", "--once")  # its retro-hunt (nothing in history) is done
    assert _ingest_then_die(env) == "acked"
    assert _rows(data, "SELECT count(*) FROM detection_alert") == [(0,)]  # killed before any fold
    assert _rows(data, "SELECT count, folded FROM detection_matchlog") == [(3, 0)]  # the kept match
    cli("detection", "jobs", "--once")
    assert _rows(data, "SELECT rrname, count, matches FROM detection_alert") == [("c2.evil.example", 3, 1)]
    assert _ingest_then_die(env) == "replayed"  # the sender retries (its answer was lost): a replay
    cli("detection", "jobs", "--once")
    assert _rows(data, "SELECT count, matches FROM detection_alert") == [(3, 1)]  # counted once
