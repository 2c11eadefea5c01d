"""The agent's Prometheus metrics: its own counters, read when scraped, on an optional loopback listener.

The agent already counts everything in ``AgentPipeline.stats()`` (the same
document as ``stats.json``); ``AgentCollector`` turns that document into
metric families at scrape time, so no counter is kept twice. Only the
shipper's request latency is a histogram of its own (``SHIP_SECONDS``).
``metrics.host``/``metrics.port`` in agent.yml start the listener (127.0.0.1
by default: it has no authentication). Names follow Prometheus conventions:
``yapdns_agent_`` prefix, units in the name, ``_total`` on counters; the
``input`` label is the input's id from agent.yml.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

SHIP_SECONDS = Histogram(
    "yapdns_agent_shipper_request_duration_seconds",
    "Time of one ingest POST to the server, answered or failed.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=None,
)

_SHIPPER_COUNTERS = (
    ("batches_acked", "yapdns_agent_shipper_batches_acked", "Batches the server acknowledged (replays included)."),
    ("batches_replayed", "yapdns_agent_shipper_batches_replayed", "Acknowledged batches the server had applied."),
    ("batches_quarantined", "yapdns_agent_quarantined_batches", "Batches set aside after a permanent refusal."),
    ("batches_split", "yapdns_agent_shipper_batches_split", "Batches sent as two halves after a 413."),
    ("observations_accepted", "yapdns_agent_shipper_observations_accepted", "Observations the server accepted."),
    ("observations_rejected", "yapdns_agent_shipper_observations_rejected", "Observations the server rejected."),
    ("retries", "yapdns_agent_shipper_retries", "Deliveries retried after an error or a refusal."),
)
_PIPELINE_COUNTERS = (
    ("observations_in", "yapdns_agent_observations_read", "Observations from the inputs, before folding."),
    ("observations_spooled", "yapdns_agent_observations_spooled", "Observations written to the spool."),
    ("observations_dropped", "yapdns_agent_observations_dropped", "Observations dropped (spool.on_full: drop)."),
    ("batches_spooled", "yapdns_agent_spool_batches_written", "Batches written to the spool."),
)


class AgentCollector(Collector):
    """Metric families from the agent's stats document (``stats()``) and its backlog age."""

    def __init__(self, stats: Callable[[], dict[str, Any]], backlog_age: Callable[[], float]) -> None:
        self._stats = stats
        self._backlog_age = backlog_age

    def collect(self) -> Iterator[Metric]:
        doc = self._stats()
        yield from _inputs(doc.get("inputs", []))
        yield GaugeMetricFamily(
            "yapdns_agent_aggregator_held_keys", "Keys the aggregator holds until its window closes.",
            doc["aggregator"]["keys"],
        )
        spool = doc["spool"]
        yield GaugeMetricFamily("yapdns_agent_spool_bytes", "Bytes in the spool's segment files.", spool["bytes"])
        yield GaugeMetricFamily("yapdns_agent_spool_batches", "Batches in the spool not yet acknowledged.",
                                spool["batches"])
        yield GaugeMetricFamily(
            "yapdns_agent_shipper_backlog_age_seconds",
            "Age of the oldest batch not yet acknowledged by the server (0 when caught up).",
            self._backlog_age(),
        )
        for table, section in ((_SHIPPER_COUNTERS, doc["shipper"]), (_PIPELINE_COUNTERS, doc["pipeline"])):
            for key, name, help_text in table:
                yield CounterMetricFamily(name, help_text, section.get(key, 0))
        yield from SHIP_SECONDS.collect()


def _inputs(inputs: list[dict[str, Any]]) -> Iterator[Metric]:
    lines = CounterMetricFamily("yapdns_agent_input_lines", "Lines (or documents) read, per input.", labels=["input"])
    size = CounterMetricFamily("yapdns_agent_input_read_bytes", "Bytes of the lines read, per log input.",
                               labels=["input"])
    obs = CounterMetricFamily("yapdns_agent_input_observations", "Observations parsed, per input.", labels=["input"])
    errors = CounterMetricFamily(
        "yapdns_agent_input_parse_errors", "Lines that could not be used, per input and reason.",
        labels=["input", "reason"],
    )
    wire = CounterMetricFamily(
        "yapdns_agent_input_events", "The wire inputs' own counters (frames, packets...), per input.",
        labels=["input", "event"],
    )
    for entry in inputs:
        ident = str(entry.get("id", ""))
        lines.add_metric([ident], entry.get("lines", 0))
        size.add_metric([ident], entry.get("bytes", 0))
        obs.add_metric([ident], entry.get("observations", 0))
        for reason, n in entry.get("errors", {}).items():
            errors.add_metric([ident, reason], n)
        for event, n in entry.get("counters", {}).items():
            if isinstance(n, (int, float)):
                wire.add_metric([ident, event], n)
    yield from (lines, size, obs, errors, wire)


def start_listener(host: str, port: int, collector: AgentCollector) -> None:
    """Serve ``/metrics`` on ``host:port`` from a daemon thread."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    start_http_server(port, host, registry=registry)
    log.info("metrics on http://%s:%d/metrics", host if ":" not in host else f"[{host}]", port)
