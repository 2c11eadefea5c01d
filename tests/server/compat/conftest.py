"""A live YAPDNS server for the compat tests (``tests/live.py``'s): a user with a query token, and the
dataset loaded through the real ingest API.

Started once per test session (it takes a few seconds) and stopped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live import LiveServer
from tests.server.compat import dataset


class CompatServer(LiveServer):
    """A live server with ``user`` and ``token``: the analyst whose query token the clients use."""

    user = "alice"
    token = ""


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CompatServer]:
    server = CompatServer(
        tmp_path_factory.mktemp("compat-live"), extra_env={"YAPDNS_CIRCL_MAX_ROWS": "50"}, access_log=False
    )
    with server:
        server.add_user(server.user, "analyst", "correct-horse-battery")
        server.token = server.cli("token", "add", server.user, "--name", "compat-tests").strip().splitlines()[-1]
        answer = server.ingest(server.sensor_token("lab-sensor"), dataset.observations(), batch_id="compat-dataset")
        assert answer["rejected"] == 0, answer
        yield server
