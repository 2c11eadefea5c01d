"""The agent's counters, logged periodically and written to ``<data>/stats.json``.

Each counter has one writer thread (an input, the pipeline's flusher), or
takes a lock (the shipper's sender threads); readers take a
consistent-enough copy for the log and the file.
``yapdns agent --stats`` prints the file.
"""

from __future__ import annotations

import collections
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from yapdns.agent.durable import write_atomic

log = logging.getLogger(__name__)

STATS_FILE = "stats.json"


@dataclass
class ShipperCounters:
    batches_acked: int = 0
    batches_replayed: int = 0  # the server had applied them already (a retry after a lost answer)
    batches_quarantined: int = 0
    batches_split: int = 0  # split in halves after a 413 (too large for the server)
    observations_accepted: int = 0
    observations_rejected: int = 0
    observations_quarantined: int = 0
    retries: int = 0
    last_ack: float | None = None
    last_error: str | None = None
    reject_samples: collections.deque[dict[str, Any]] = field(default_factory=lambda: collections.deque(maxlen=20))

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reject_samples"] = list(self.reject_samples)
        return out


@dataclass
class PipelineCounters:
    observations_in: int = 0  # from the inputs, before folding
    observations_spooled: int = 0  # after folding
    batches_spooled: int = 0
    observations_dropped: int = 0  # only with spool.on_full: drop
    commits: int = 0
    commit_failures: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_stats(data_dir: Path, document: dict[str, Any]) -> None:
    write_atomic(data_dir / STATS_FILE, json.dumps(document, indent=2, sort_keys=True).encode())


def read_stats(data_dir: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads((data_dir / STATS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def summary_line(document: dict[str, Any]) -> str:
    """One log line: what came in, what is waiting, what was delivered."""
    inputs = document.get("inputs", [])
    lines = sum(i.get("lines", 0) for i in inputs)
    errors = sum(sum(i.get("errors", {}).values()) for i in inputs)
    p, s, spool = document["pipeline"], document["shipper"], document["spool"]
    return (
        f"lines={lines} bad_lines={errors} observations={p['observations_in']} folded_to={p['observations_spooled']} "
        f"spool={spool['batches']} batches/{spool['bytes']} bytes acked={s['batches_acked']} "
        f"accepted={s['observations_accepted']} rejected={s['observations_rejected']} "
        f"quarantined={s['batches_quarantined']} dropped={p['observations_dropped']}"
    )


def stamp(document: dict[str, Any]) -> dict[str, Any]:
    return {"time": time.time(), **document}
