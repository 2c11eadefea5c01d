"""Two delivery runners at once, as real processes (`yapdns detection jobs --once` twice, side by side): every
alert reaches the webhook exactly once, because each runner claims a delivery before it sends it."""

from __future__ import annotations

import collections
import json
import os
import re
import socket
import time
from pathlib import Path

import pytest

from tests.agent.inputs.dnsservers import process
from tests.cli.test_cli import COF_SAMPLE
from tests.live import YAPDNS, LiveServer
from tests.server.detection.test_delivery import Webhook
from tests.server.workers.conftest import FAST

pytestmark = pytest.mark.slow
SLOW_RECEIVER = 0.4  # seconds the webhook takes per alert, so the two runners' rounds overlap


def port_from_range() -> int:
    """A free port of ``YAPDNS_TEST_PORT_RANGE`` (``low-high``) when set, else any free port."""
    low, _, high = os.environ.get("YAPDNS_TEST_PORT_RANGE", "").partition("-")
    for port in range(int(low or 0), int(high or -1) + 1):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    return 0


class SlowWebhook(Webhook):
    """The test webhook, answering each POST after ``SLOW_RECEIVER`` seconds."""

    def __init__(self) -> None:
        super().__init__(port_from_range())
        handler = self.server.RequestHandlerClass
        taken = handler.do_POST  # type: ignore[attr-defined]

        def slow(request: object) -> None:
            time.sleep(SLOW_RECEIVER)
            taken(request)

        handler.do_POST = slow  # type: ignore[attr-defined]


def test_two_runners_side_by_side_send_each_alert_once(tmp_path: Path) -> None:
    hook = SlowWebhook()
    try:
        server = LiveServer(tmp_path / "data", extra_env={**FAST, "YAPDNS_ALERT_WEBHOOK_URL": hook.url})
        server.cli("migrate")
        server.cli("detection", "watch", "re:.", "--label", "every name")
        server.cli("detection", "jobs", "--once")  # the entry's retro-hunt: an empty store, nothing found
        server.cli("import", "-F", "cof", str(COF_SAMPLE))  # 8 records matched live: 8 alerts in the outbox
        logs = [tmp_path / f"runner{i}.log" for i in (1, 2)]
        with process([*YAPDNS, "detection", "jobs", "--once"], logs[0], server.env) as one, \
                process([*YAPDNS, "detection", "jobs", "--once"], logs[1], server.env) as two:
            assert one.wait(timeout=120) == 0 and two.wait(timeout=120) == 0, [p.read_text() for p in logs]
        ids = collections.Counter(json.loads(body)["id"] for _, body in hook.received)
        assert len(ids) == 8, [p.read_text() for p in logs]
        assert set(ids.values()) == {1}, ids  # without claims: most alerts twice
        sent = [int(re.search(r"sent (\d+) alerts", p.read_text())[1]) for p in logs]  # type: ignore[index]
        assert sum(sent) == 8 and min(sent) > 0, sent  # both runners sent some: they really ran side by side
    finally:
        hook.close()
