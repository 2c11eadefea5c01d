"""Detection fixtures: every test starts with a freshly compiled watchlist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from yapdns.server.detection import services


@pytest.fixture(autouse=True)
def fresh_matcher() -> Iterator[None]:
    services.forget_matcher()
    yield
    services.forget_matcher()
