"""Scraping the metrics: one process, or every gunicorn worker of ``yapdns serve`` at once.

``yapdns serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory
before any worker starts (``multiproc.prepare_multiprocess``): each worker then keeps
its counters in files there, and a scrape in any worker, or in the
master's loopback listener (``YAPDNS_METRICS_LISTEN``), adds up every
worker's figures (``prometheus_client.multiprocess``), those of workers that
exited included, so counters never go backwards when gunicorn replaces a
worker. Without the variable (tests, ``runserver``), a scrape reads this
process's own registry.

The store's size is read at scrape time (``StoreCollector``) from its
running counters (``Store.stats()``, a few indexed rows): it is a property
of the database, not of a worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from yapdns.server.monitoring.multiproc import ENV
from yapdns.storage.base import Store, StoreStats


def worker_exited(pid: int) -> None:
    """gunicorn's ``child_exit`` hook: drop the live gauges of a worker that is gone."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class StoreCollector(Collector):
    """``yapdns_store_*`` gauges from ``Store.stats()``, read at each scrape."""

    def __init__(self, store: Callable[[], Store]) -> None:
        self._store = store

    def _stats(self) -> StoreStats | None:
        try:
            return self._store().stats()
        except Exception:  # a scrape must answer even when the store does not
            return None

    def collect(self) -> Iterator[Metric]:
        stats = self._stats()
        up = GaugeMetricFamily("yapdns_store_up", "Whether the record store answered the last size query.")
        up.add_metric([], 0 if stats is None else 1)
        yield up
        if stats is None:
            return
        if stats.size_bytes is not None:
            yield GaugeMetricFamily("yapdns_store_size_bytes", "Size of the record store on disk.", stats.size_bytes)
        rows = GaugeMetricFamily("yapdns_store_rows", "Records in the store, per kind.", labels=["kind"])
        for kind in ("records", "rrsets", "negatives", "queries"):
            rows.add_metric([kind], getattr(stats, kind))
        yield rows
        yield GaugeMetricFamily(
            "yapdns_store_observations", "Observations the store has aggregated, in all.", stats.observations
        )


class _ProcessRegistry(Collector):
    """This process's own metrics (when not in multiprocess mode)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape_registry(store: Callable[[], Store]) -> CollectorRegistry:
    """A registry holding every worker's metrics (or this process's) and the store's size."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessRegistry())
    registry.register(StoreCollector(store))
    return registry


_SHARED: dict[str, CollectorRegistry] = {}


def render(store: Callable[[], Store]) -> bytes:
    """The Prometheus text exposition of everything (one registry per process, reused)."""
    registry = _SHARED.get("registry")
    if registry is None:
        registry = _SHARED.setdefault("registry", scrape_registry(store))
    return generate_latest(registry)
