"""The log line formats of every YAPDNS process (server, worker, agent): plain text, or one JSON object a line.

``JsonFormatter`` writes ``time`` (UTC, ISO 8601), ``level``, ``logger`` and
``message``, then every ``extra`` a record carries (the server's
``request_id``, ``sensor`` and ``batch_id``; the agent's ``batch_id`` and
``input``) and ``exception`` when there is one. Log pipelines read the
server's and the agent's lines with one parser.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

FORMATS = ("plain", "json")
PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, any ``extra`` and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and value is not None and not key.startswith("_"):
                out[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``plain`` or ``json``."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(PLAIN)
