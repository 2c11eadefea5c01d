"""``POST /api/v1/ingest``: a sensor posts one batch of observations.

Request: sensor bearer token; ``Content-Type`` ``application/x-ndjson`` or
``application/json``; optional ``Content-Encoding: gzip``; ``X-Batch-Id``;
a ``Content-Length`` or ``Transfer-Encoding: chunked`` body.

Answers (docs/api.md):

* 200 with per-record accept/reject counts and reasons;
* 400 with the line number for undecodable input, an invalid batch id, or a
  batch without records; 411 for a body of unknown length the server cannot
  read; 413 for a batch over a limit (``server/limits.py``): nothing of it is
  applied, so a sender can split it and send the parts;
* 401 bad token, 403 a token that may not ingest;
* 503 with Retry-After when the store is unavailable: nothing was applied
  and a retry can succeed;
* 500 when the store failed in a way a retry would repeat (a bug): nothing
  was applied, the reason is in the answer and the server log, and the
  failure is counted on the sensor; the agent retries a few times, then
  quarantines the batch (docs/agent.md).

A batch id is spent only by a batch that was read whole and applied: a
refusal of any kind leaves it unspent, so the sender's retry is applied.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from django.http import HttpRequest, HttpResponse, JsonResponse

from yapdns.core.batch import CANONICAL_HEADER, decode_batch, decompress
from yapdns.core.errors import BatchTooLarge, MalformedInput
from yapdns.ingest import IngestService
from yapdns.server.detection.live import ingest_hooks
from yapdns.server.limits import LimitExceeded, RequestLimits
from yapdns.server.monitoring import logs, metrics
from yapdns.server.security import Principal, api_view, error
from yapdns.server.sensors.services import record_ingest, record_refusal
from yapdns.server.store import get_store
from yapdns.storage.base import StoreUnavailable

log = logging.getLogger(__name__)
_LENGTH = re.compile(r"[0-9]{1,19}")
_READ_CHUNK = 1 << 20


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes; raise ``LimitExceeded`` (411, 413) or ``MalformedInput``."""
    declared = request.headers.get("Content-Length", "").strip()
    if declared and not _LENGTH.fullmatch(declared):
        raise MalformedInput(f"Content-Length must be a number of bytes, got {declared[:30]!r}")
    if declared and int(declared) > limit:
        raise _too_large(limit)
    if not declared and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        body = _read_chunked(request, limit)
    else:
        body = request.read(limit + 1)
    if len(body) > limit:
        raise _too_large(limit)
    if declared and len(body) < int(declared):  # the client went away mid-upload
        raise MalformedInput(f"request body cut short: {len(body)} of {declared} bytes")
    return body


def _read_chunked(request: HttpRequest, limit: int) -> bytes:
    """A chunked body, read from the server's input stream (Django reads only bodies of declared length)."""
    stream: Any = request.META.get("wsgi.input")
    if stream is None or not request.META.get("wsgi.input_terminated"):
        raise LimitExceeded("this server cannot read a chunked body here; send Content-Length", status=411)
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = stream.read(min(_READ_CHUNK, limit + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _too_large(limit: int) -> LimitExceeded:
    return LimitExceeded(f"request body exceeds {limit} bytes; send smaller batches (agent: lower batch size)")


@api_view("ingest", methods=("POST",))
def ingest(request: HttpRequest, principal: Principal) -> HttpResponse:
    """Read, decode and apply one batch; reply with accept/reject counts."""
    sensor = principal.sensor
    assert sensor is not None
    logs.SENSOR.set(sensor.name)
    logs.BATCH_ID.set(request.headers.get("X-Batch-Id", "")[:128] or None)
    limits = RequestLimits.from_settings()
    budget = limits.budget()
    try:
        body = _read_body(request, limits.ingest_body_bytes)
        metrics.INGEST_BYTES.inc(len(body))
        media = (request.content_type or "").lower()
        lines = limits.ingest_records if media not in ("", "application/json") else None  # NDJSON
        raw = decompress(body, request.headers.get("Content-Encoding"), limits.ingest_decompressed_bytes, lines)
        batch = decode_batch(
            raw,
            media,
            request.headers.get("X-Batch-Id"),
            max_records=limits.ingest_records,
            check=budget.check,
            canonical=request.headers.get(CANONICAL_HEADER) == "1",  # checked per record, never trusted
        )
    except (LimitExceeded, BatchTooLarge) as exc:
        record_refusal(sensor.pk)
        metrics.count_ingest("refused")
        return error(getattr(exc, "status", 413), str(exc))
    except MalformedInput as exc:
        record_refusal(sensor.pk)
        metrics.count_ingest("refused")
        return error(400, str(exc), **({"line": exc.line} if exc.line is not None else {}))
    try:
        result = IngestService(get_store(), ingest_hooks()).submit(sensor.name, batch)
    except StoreUnavailable:  # nothing was applied and a retry can succeed
        log.exception("ingest from %s: the store is unavailable", sensor.name)
        metrics.count_ingest("unavailable")
        response = error(503, "the record store is unavailable; retry later")
        response["Retry-After"] = "5"
        return response
    except Exception as exc:  # a failure a retry would repeat: never "retry later"
        log.exception("ingest from %s failed", sensor.name)
        record_refusal(sensor.pk, failed=True)
        metrics.count_ingest("failed")
        return error(
            500,
            f"the server failed to apply this batch ({type(exc).__name__}); nothing of it was applied and a "
            "retry would fail the same way. This is a server bug: please report it with the server log.",
            retryable=False,
        )
    record_ingest(sensor.pk, result.accepted, result.rejected, result.replayed)
    if result.replayed:
        metrics.count_ingest("replayed")
    else:
        metrics.count_ingest("applied", accepted=result.accepted, rejects=[r.code for r in batch.rejects])
    return JsonResponse(msgspec.to_builtins(result))
