"""``RequestMonitorMiddleware``: a request id, latency and status per API family, and the JSON access log.

It runs first, so its time covers every other middleware; for a streamed
answer it is the time to the response headers. The family is read from the
path prefix (``family_of``), never from user input beyond that.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from yapdns.server.monitoring import logs, metrics

access_log = logging.getLogger("yapdns.access")
_FAMILIES = (
    ("/api/v1/ingest", "ingest"),
    ("/api/v1/health", "health"),
    ("/api/v1/ready", "health"),
    ("/api/v1/", "api"),
    ("/dnsdb/", "dnsdb"),
    ("/pdns/", "circl"),
    ("/metrics", "metrics"),
    ("/static/", "static"),
)


def family_of(path: str) -> str:
    """The API family a path belongs to: ingest, api, dnsdb, circl, health, metrics, static or dashboard."""
    return next((family for prefix, family in _FAMILIES if path.startswith(prefix)), "dashboard")


class RequestMonitorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        rid = logs.request_id_from(request.headers.get("X-Request-Id"))
        tokens = (logs.REQUEST_ID.set(rid), logs.SENSOR.set(None), logs.BATCH_ID.set(None))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            family = family_of(request.path)
            metrics.REQUEST_SECONDS.labels(family).observe(elapsed)
            metrics.REQUESTS.labels(family, f"{response.status_code // 100}xx").inc()
            response["X-Request-Id"] = rid
            if settings.JSON_ACCESS_LOG:
                access_log.info(
                    "%s %s %d",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={"method": request.method, "path": request.path, "status": response.status_code,
                           "duration_ms": round(elapsed * 1000, 2), "family": family},
                )
            return response
        finally:
            for var, token in zip((logs.REQUEST_ID, logs.SENSOR, logs.BATCH_ID), tokens, strict=True):
                var.reset(token)
