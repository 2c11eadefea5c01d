"""Every metric the server exports, named by Prometheus conventions (docs/operations.md lists them).

Names carry the ``yapdns_`` prefix and their unit (``_seconds``, ``_bytes``);
counters end in ``_total``. Labels take a few fixed values each (never a
name, an address or a token), so the number of series stays small. The
objects are ``prometheus_client`` metrics: in gunicorn's worker processes
they write to the shared metrics directory (multiprocess mode, set up by
``yapdns serve``) and ``exposition.py`` adds them up when scraped.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from yapdns.storage.query import RecordQuery

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

INGEST_BATCHES = Counter(
    "yapdns_ingest_batches",
    "Ingest requests by outcome: applied, replayed, refused (4xx), unavailable (503), failed (500).",
    ["outcome"],
)
INGEST_OBSERVATIONS = Counter("yapdns_ingest_observations", "Observations accepted by ingest (replays excluded).")
INGEST_REJECTS = Counter("yapdns_ingest_rejects", "Records rejected by ingest validation, by reason code.", ["reason"])
INGEST_BYTES = Counter("yapdns_ingest_received_bytes", "Ingest request bodies as received (compressed).")
REQUEST_SECONDS = Histogram(
    "yapdns_http_request_duration_seconds",
    "Time to the response headers, per API family.",
    ["family"],
    buckets=_LATENCY_BUCKETS,
)
REQUESTS = Counter("yapdns_http_requests", "Requests answered, per API family and status class.", ["family", "status"])
QUERIES = Counter("yapdns_queries", "Record lookups, per API and query shape.", ["api", "shape"])
QUOTA_REFUSALS = Counter("yapdns_quota_refusals", "Requests refused by a token quota, per window.", ["window"])
LOGIN_FAILURES = Counter("yapdns_login_failures", "Failed dashboard logins (wrong password or locked out).")
WRITER_QUEUE = Gauge(
    "yapdns_writer_queue_depth",
    "Write jobs waiting for the store's group writer.",
    ["writer"],
    multiprocess_mode="livesum",
)
WRITER_APPLY = Histogram(
    "yapdns_writer_group_apply_seconds", "Time to apply one group of batches in one transaction.", ["writer"],
    buckets=_LATENCY_BUCKETS,
)
WRITER_OBSERVATIONS = Counter(
    "yapdns_writer_observations",
    "Observations in the groups the writer committed (replayed batches included).",
    ["writer"],
)


class _WriterMetrics:
    """``storage.observe.WriterObserver`` feeding the writer metrics."""

    def queue_depth(self, writer: str, depth: int) -> None:
        WRITER_QUEUE.labels(writer).set(depth)

    def group_applied(self, writer: str, observations: int, seconds: float) -> None:
        WRITER_APPLY.labels(writer).observe(seconds)
        WRITER_OBSERVATIONS.labels(writer).inc(observations)


WRITER_OBSERVER = _WriterMetrics()


NAME_SHAPES = {"exact": "exact_name", "suffix": "left_wildcard", "prefix": "right_wildcard"}


def query_shape(query: RecordQuery) -> str:
    """The shape of a lookup, as in docs/architecture.md's index table."""
    if query.rrname is not None:
        return NAME_SHAPES[query.rrname.kind]
    if query.rdata_ip is not None:
        return "ip"
    if query.rdata_name is not None:
        return "rdata_name"
    return "sample" if query.sample is not None else "rdata"


def count_query(api: str, query: RecordQuery) -> None:
    QUERIES.labels(api, query_shape(query)).inc()


def count_login_failure(sender: Any = None, **kwargs: Any) -> None:
    """``user_login_failed`` receiver."""
    LOGIN_FAILURES.inc()


def count_ingest(outcome: str, *, accepted: int = 0, rejects: list[str] | None = None) -> None:
    """One ingest request's outcome; ``rejects`` are the reason codes of its rejected records."""
    INGEST_BATCHES.labels(outcome).inc()
    if accepted:
        INGEST_OBSERVATIONS.inc(accepted)
    for reason in rejects or ():
        INGEST_REJECTS.labels(reason).inc()
