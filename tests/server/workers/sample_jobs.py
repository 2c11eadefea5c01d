"""Jobs the worker tests enqueue; each leaves its trace in files, so the test sees what ran and how often."""

from __future__ import annotations

import time
from pathlib import Path

from yapdns.server.workers.jobs import job


def _append(path: str, line: str) -> int:
    """Append a line; return how many lines the file had before."""
    file = Path(path)
    before = len(file.read_text().splitlines()) if file.exists() else 0
    with file.open("a") as fh:
        fh.write(line + "\n")
    return before


@job(retries=0)
def record(path: str, token: str) -> None:
    _append(path, token)
    time.sleep(0.02)  # long enough for the other worker to claim the next job


@job(retries=2, backoff=0.2)
def flaky(path: str, failures: int) -> str:
    before = _append(path, "try")
    if before < failures:
        raise RuntimeError(f"flaky failure {before + 1}")
    return "ok"


@job(retries=1, backoff=0.2)
def always_fails(message: str) -> None:
    raise ValueError(message)


@job(retries=0)
def block(started: str, release: str, done: str) -> None:
    _append(started, "started")
    deadline = time.monotonic() + 60
    while not Path(release).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    _append(done, "done")


@job(retries=0)
def tick() -> None:
    """A periodic job with nothing to do."""
