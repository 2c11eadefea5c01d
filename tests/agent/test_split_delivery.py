"""A batch larger than the server takes (413) is split by the real agent and delivered whole, exactly once."""

from __future__ import annotations

import json
from pathlib import Path

from tests.agent.helpers import expected_totals
from tests.agent.live import agent_config, run_once, stored_totals
from tests.live import LiveServer


def test_batches_over_the_servers_record_limit_are_split_and_all_arrive(tmp_path: Path) -> None:
    lines = [
        json.dumps({"rrname": f"h{n}.split.example", "rrtype": "A", "rdata": f"192.0.2.{n % 250 + 1}",
                    "time_first": 1_700_000_000 + n, "time_last": 1_700_000_100 + n, "count": n + 1}) + "\n"
        for n in range(60)
    ]
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "export.ndjson").write_text("".join(lines))
    expected = expected_totals(lines)
    with LiveServer(tmp_path / "server", extra_env={"YAPDNS_MAX_INGEST_RECORDS": "7"}, access_log=False) as server:
        sensor, query = server.sensor_token("splitter"), server.query_token()
        config = agent_config(
            tmp_path / "agent.yml", server.url, sensor,
            [{"format": "cof", "paths": [str(tmp_path / "logs" / "*.ndjson")]}],
            output={"batch_size": 25},
        )
        done = run_once("-c", str(config), timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert stored_totals(server, query, expected, "splitter") == expected
        assert not (tmp_path / "agent-data" / "quarantine").exists()
