"""The dashboard tests' server: ``tests/live.py``'s, with three roles of users, two sensors and the dataset
ingested through the real ingest API."""

from __future__ import annotations

import time
from pathlib import Path

from tests.live import LiveServer
from tests.server.dashboard import dataset, flux

PASSWORD = "correct horse battery staple"
SENSORS = ("edge", "sandbox")
USERS = {"admin": "admin", "analyst": "analyst", "reader": "read-only", "victim": "read-only"}


class DashboardServer(LiveServer):
    """A live server with ``tokens``: each sensor's ingest token."""

    tokens: dict[str, str]


def launch(root: Path, *, failure_limit: int = 5) -> DashboardServer:
    """Start a server with the users, the sensors and the dataset ingested."""
    server = DashboardServer(
        root / "data",
        extra_env={
            "YAPDNS_LOGIN_FAILURE_LIMIT": str(failure_limit),
            "YAPDNS_LOGIN_COOLOFF_SECONDS": "600",
            "YAPDNS_TLS": "false",
            "YAPDNS_TRUSTED_PROXIES": "127.0.0.1,::1",  # the browser tests play the proxy (X-Forwarded-For)
        },
        access_log=False,
    )
    server.start()
    for username, role in USERS.items():
        server.add_user(username, role, PASSWORD)
    server.tokens = {sensor: server.sensor_token(sensor) for sensor in SENSORS}
    now = int(time.time())
    server.ingest(server.tokens["edge"], dataset.edge_observations(now))
    server.ingest(server.tokens["sandbox"], dataset.sandbox_observations(now))
    server.ingest(server.tokens["edge"], flux.flux_observations(now) + flux.zone_observations(now))
    return server
