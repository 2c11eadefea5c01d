"""`yapdns detection`: watchlist entries from the command line and one round of the jobs (retro-hunt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.test_cli import COF_SAMPLE, invoke


@pytest.mark.django_db(transaction=True)
def test_watch_import_and_a_jobs_round_hunt_history(tmp_path: Path) -> None:
    run = CliRunner()
    invoke(run, "import", str(COF_SAMPLE), "-F", "cof")
    assert "name *.dhnet.be" in invoke(run, "detection", "watch", "*.dhnet.be", "--tlp", "amber")
    invoke(run, "detection", "watch", "bad..name", ok=False)
    listing = tmp_path / "ips.txt"
    listing.write_text("# scanners\n80.169.63.0/24\nnot..valid\n")
    out = invoke(run, "detection", "import", str(listing))
    assert "added 1 entries, skipped 1" in out and "line 3" in out
    assert "hunted 2 entries, 0 NOD alerts, rescored 8 names, sent 0 alerts" in invoke(run, "detection", "jobs", "--once")
    assert "hunted 0 entries" in invoke(run, "detection", "jobs", "--once")
