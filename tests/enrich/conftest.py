"""The built-in dataset, loaded once for the session (a few seconds and ~150 MB)."""

from __future__ import annotations

import pytest

from yapdns.enrich.builtin import BuiltinDataset


@pytest.fixture(scope="session")
def builtin() -> BuiltinDataset:
    return BuiltinDataset()
