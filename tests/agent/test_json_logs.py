"""`logging.format: json` makes the real `yapdns agent` write the server's JSON lines: one object a line, the
same formatter as `YAPDNS_LOG_FORMAT=json`, with the batch id on shipping lines and the input on input lines.

The agent ships to a port nobody listens on (a server that is down), so its retries are logged."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from tests.agent.helpers import cof_line, wait_for
from tests.agent.live import AgentProcess, agent_config
from yapdns.core.logformat import JsonFormatter
from yapdns.server.monitoring.logs import logging_config


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def test_the_agent_writes_the_servers_json_lines(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "query.log").write_text("".join(cof_line(i) for i in range(20)))
    config = agent_config(tmp_path / "agent.yml", f"http://127.0.0.1:{closed_port()}", "token",
                          [{"id": "cof", "format": "cof", "paths": [str(logs / "query.log")]}],
                          logging={"level": "info", "format": "json"}, output={"shutdown_timeout": "1s"})
    agent = AgentProcess(config).start()
    try:
        wait_for(lambda: any("batch_id" in line for line in lines(agent.log)), what="a shipping line")
    finally:
        assert agent.stop() == 0
    written = lines(agent.log)  # every line parses: json.loads raised otherwise
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in written)
    failed = next(line for line in written if "batch_id" in line)
    assert failed["logger"] == "yapdns.agent.shipper" and failed["level"] == "warning"
    assert failed["message"].startswith("shipping failed, will retry: ConnectError") and failed["batch_id"]
    assert any(line.get("input") == "cof" and line["message"] == "input cof (log) started" for line in written)
    assert written[-1]["message"].startswith("agent stopped")
    assert logging_config("json")["formatters"]["main"]["()"] is JsonFormatter  # one formatter for both
