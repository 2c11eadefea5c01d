"""The agent's metrics: the stats document as Prometheus families, and the spool's backlog age."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.agent.test_spool import body, checkpoint, opened
from yapdns.agent import spool as spool_module
from yapdns.agent.metrics import AgentCollector

DOC = {
    "inputs": [{"id": "bind", "lines": 10, "bytes": 900, "observations": 7, "errors": {"no_match": 3}},
               {"id": "tap", "lines": 0, "observations": 4, "errors": {}, "counters": {"frames": 5, "note": "x"}}],
    "aggregator": {"keys": 2},
    "pipeline": {"observations_in": 11, "observations_spooled": 9, "observations_dropped": 0, "batches_spooled": 1},
    "spool": {"bytes": 4096, "batches": 1},
    "shipper": {"batches_acked": 3, "batches_quarantined": 1, "observations_accepted": 8, "retries": 2},
}


def test_the_stats_document_becomes_conventional_families() -> None:
    registry = CollectorRegistry()
    registry.register(AgentCollector(lambda: DOC, lambda: 12.5))
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(generate_latest(registry).decode()) for s in f.samples}
    assert samples[("yapdns_agent_input_lines_total", (("input", "bind"),))] == 10
    assert samples[("yapdns_agent_input_read_bytes_total", (("input", "bind"),))] == 900
    assert samples[("yapdns_agent_input_parse_errors_total", (("input", "bind"), ("reason", "no_match")))] == 3
    assert samples[("yapdns_agent_input_events_total", (("event", "frames"), ("input", "tap")))] == 5
    assert ("yapdns_agent_input_events_total", (("event", "note"), ("input", "tap"))) not in samples
    assert samples[("yapdns_agent_aggregator_held_keys", ())] == 2
    assert samples[("yapdns_agent_spool_bytes", ())] == 4096
    assert samples[("yapdns_agent_quarantined_batches_total", ())] == 1
    assert samples[("yapdns_agent_shipper_retries_total", ())] == 2
    assert samples[("yapdns_agent_shipper_backlog_age_seconds", ())] == 12.5
    assert ("yapdns_agent_shipper_request_duration_seconds_count", ()) in samples


class Clock:
    """A wall clock the test moves; monotonic time stays real."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return time.monotonic()


def test_backlog_age_follows_the_oldest_unacknowledged_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(spool_module, "time", clock)
    spool = opened(tmp_path)
    assert spool.backlog_age() == 0
    spool.commit([("a", 1, body(1))], checkpoint(1, 10), 1)
    clock.now += 30
    spool.commit([("b", 1, body(1))], checkpoint(2, 20), 2)
    clock.now += 5
    assert spool.backlog_age() == 35
    first = spool.next_batch(timeout=1)
    assert first is not None
    spool.ack(first.ref)
    assert spool.backlog_age() == 5
    second = spool.next_batch(timeout=1)
    assert second is not None
    spool.ack(second.ref)
    assert spool.backlog_age() == 0
    spool.close()
