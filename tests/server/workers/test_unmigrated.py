"""`yapdns worker` on an application database never migrated says what to run, in one line, and exits 1.

Real processes on a fresh SQLite data directory and a fresh PostgreSQL database: the check reads Django's
migration plan, so it holds for a database one migration behind as well as for an empty one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.server.workers.conftest import Queue, _pg_database, _pg_url

pytestmark = pytest.mark.slow  # real processes: ~5 s a database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Queue]:
    with ExitStack() as stack:
        url = "" if request.param == "sqlite" else _pg_url(stack.enter_context(_pg_database()))
        queue = Queue(tmp_path / "data", url, migrate=False)
        queue.env["PYTHONPATH"] = f"{ROOT / 'src'}:{ROOT}"  # this checkout's code, whatever the venv points at
        yield queue


def _worker(queue: Queue) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yapdns", "worker", "--batch"], env=queue.env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_worker_on_a_database_never_migrated_says_run_yapdns_migrate(fresh: Queue) -> None:
    done = _worker(fresh)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: the application database is not migrated (") and "pending" in line
    assert line.endswith("run `yapdns migrate` first")
    fresh._run([sys.executable, "-m", "yapdns", "migrate"])
    done = _worker(fresh)
    assert done.returncode == 0, done.stderr  # migrated: the same command runs what is due, then exits
