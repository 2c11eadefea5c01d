"""What a log line says about its request: request id, sensor and batch id; and the JSON line format.

The request middleware binds a request id for the duration of each request
(the caller's ``X-Request-Id`` when it is a short token, else a fresh one);
the ingest view adds the sensor and the batch id. ``RequestContextFilter``
copies them onto every log record made meanwhile, in any thread that runs
the request. With ``YAPDNS_LOG_FORMAT=json`` each line is one JSON object
(``core/logformat.py``'s ``JsonFormatter``, which the agent shares), for log
pipelines; the plain format stays the default.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from typing import Any

from yapdns.core.logformat import PLAIN, JsonFormatter

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("yapdns_request_id", default=None)
SENSOR: contextvars.ContextVar[str | None] = contextvars.ContextVar("yapdns_sensor", default=None)
BATCH_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("yapdns_batch_id", default=None)
_CONTEXT = {"request_id": REQUEST_ID, "sensor": SENSOR, "batch_id": BATCH_ID}
_GIVEN_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is a short token, else a new random one."""
    if header and _GIVEN_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``sensor`` and ``batch_id`` (or None) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _CONTEXT.items():
            if not hasattr(record, name):
                setattr(record, name, var.get())
        return True


def logging_config(log_format: str) -> dict[str, Any]:
    """Django's ``LOGGING`` for ``YAPDNS_LOG_FORMAT`` (``plain`` or ``json``)."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter} if log_format == "json" else {"format": PLAIN}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "yapdns.server.monitoring.logs.RequestContextFilter"}},
        "formatters": {"main": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "main", "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": "INFO"},
        "loggers": {"django.request": {"level": "ERROR"}, "axes": {"level": "WARNING"}},
    }

