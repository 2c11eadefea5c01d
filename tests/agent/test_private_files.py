"""The agent's data directory, spool, read positions and stats are owner-only (issue 13, section 4)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from yapdns.agent.positions import Checkpoint, PositionsFile, encode_checkpoint
from yapdns.agent.service import data_dir_lock
from yapdns.agent.spool import DiskSpool
from yapdns.agent.stats import write_stats


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_agents_data_spool_positions_and_stats_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        data = tmp_path / "agent"
        with data_dir_lock(data):
            spool = DiskSpool(data / "spool", max_bytes=1 << 20, segment_bytes=1 << 16)
            spool.open()
            spool.commit([("b1", 1, b"x")], encode_checkpoint(Checkpoint(1, {})), 1)
            spool.close()
            PositionsFile(data).save(Checkpoint(1, {}))
            write_stats(data, {})
    finally:
        os.umask(old)
    assert mode(data) == 0o700 and mode(data / "spool") == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    assert len(files) >= 4
    assert all(mode(p) == 0o600 for p in files), [(p.name, oct(mode(p))) for p in files]
