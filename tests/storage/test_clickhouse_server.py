"""The ClickHouse test server itself: Debian's 18.16 binary, started on loopback, crash and restart on its data."""

from __future__ import annotations

import pytest

from tests.clickhouse_servers import ClickHouseServer

pytestmark = pytest.mark.clickhouse


def test_the_session_server_is_debians_18_16(clickhouse_server: ClickHouseServer) -> None:
    from clickhouse_driver import Client

    client = Client("127.0.0.1", port=clickhouse_server.tcp_port)
    try:
        (version,) = client.execute("SELECT version()")[0]
    finally:
        client.disconnect()
    assert version.startswith("18.16.")
