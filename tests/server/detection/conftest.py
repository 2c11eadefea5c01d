"""Detection fixtures: every test starts with a freshly compiled watchlist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from yapdns.server.detection import services

# Tests whose ingest keeps watchlist matches: the store's writer thread keeps them on its own connection to the
# application database, which needs the tables committed (not inside the test's transaction).
KEEPS = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_matcher() -> Iterator[None]:
    services.forget_matcher()
    yield
    services.forget_matcher()
