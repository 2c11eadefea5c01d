"""Running the WSGI app under gunicorn, configured from ``yapdns serve`` options.

``server_hooks`` adds what metrics and logs need from the master
process: forgetting the live gauges of a worker that exited, the optional
loopback metrics listener (``YAPDNS_METRICS_LISTEN``, started once the
master is ready, serving every worker's figures), and JSON lines for
gunicorn's own log when ``YAPDNS_LOG_FORMAT=json``; what the master builds
once before it forks, so no worker's first page pays it (``prepare_shared``:
the lexical model of the detection signals, ~1 s of CPU); and in each worker
process, once the app is loaded (``prepare_worker``), its URL routes and
views, and the thread folding watchlist matches into alerts
(``detection/live.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

log = logging.getLogger("gunicorn.error")


class YapdnsServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with our options; the app is imported in each worker (after fork)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from yapdns.server.wsgi import application

        return application


def split_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``; a bare port means 127.0.0.1) as ``(host, port)``."""
    host, sep, port = listen.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"YAPDNS_METRICS_LISTEN must be host:port, got {listen!r}")
    return (host.strip("[]") if sep and host else "127.0.0.1"), int(port)


def server_hooks(metrics_listen: str, json_logs: bool) -> dict[str, Any]:
    """gunicorn settings for the metrics listener, dead workers' gauges, JSON logs and what workers share."""
    from yapdns.server.monitoring.exposition import worker_exited

    hooks: dict[str, Any] = {"child_exit": lambda server, worker: worker_exited(worker.pid),
                             "on_starting": lambda server: prepare_shared(),
                             "post_worker_init": lambda worker: prepare_worker()}
    if metrics_listen:
        host, port = split_listen(metrics_listen)
        hooks["when_ready"] = lambda server: _start_listener(host, port)
    if json_logs:
        from yapdns.server.monitoring.logs import logging_config

        config = logging_config("json")
        config["loggers"] = {"gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False}}
        hooks["logconfig_dict"] = config
    return hooks


def prepare_shared() -> None:
    """Build, in the master before it forks, what every worker would otherwise build on its first page: the
    bigram model the domain pages' DGA signal scores with (``detection/lexical.py``, cached per process)."""
    from yapdns.server.detection import lexical

    lexical.model()


def prepare_worker() -> None:
    """A worker process, once the app is loaded: its URL routes (importing every view: ~0.3 s its first request
    would wait for) and its background thread folding watchlist matches into alerts (detection/live.py)."""
    from django.urls import get_resolver

    from yapdns.server.detection.live import start_folder

    get_resolver().url_patterns  # noqa: B018 (imports the views)
    start_folder()


def _start_listener(host: str, port: int) -> None:
    """Serve ``/metrics`` of every worker on ``host:port`` from the master (no token: bind it to loopback)."""
    from prometheus_client import start_http_server

    from yapdns.server.monitoring.exposition import scrape_registry
    from yapdns.storage.registry import open_configured_store

    stores: list[Any] = []

    def store() -> Any:
        if not stores:  # the master's own store, opened on the first scrape (never shared with workers)
            stores.append(open_configured_store())
        return stores[0]

    start_http_server(port, host, registry=scrape_registry(store))
    log.info("metrics listener on http://%s:%d/metrics", host if ":" not in host else f"[{host}]", port)
