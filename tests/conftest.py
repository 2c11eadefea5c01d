"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "fixtures"
PG_URL = os.environ.get("YAPDNS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches ./data: each gets its own YAPDNS_DATA_DIR."""
    monkeypatch.setenv("YAPDNS_DATA_DIR", str(tmp_path / "data"))
