"""``POST /api/v1/ingest``: a sensor posts one batch of observations.

Request: sensor bearer token; ``Content-Type`` ``application/x-ndjson`` or
``application/json``; optional ``Content-Encoding: gzip``; ``X-Batch-Id``.
Answers: 200 with per-record accept/reject counts and reasons; 400 with the
line number for undecodable input (nothing of that batch is applied); 401
for a bad token; 403 for a token that may not ingest; 413 for a body over
YAPDNS_MAX_INGEST_BYTES; 503 with Retry-After when the store fails (nothing
was applied, so the sensor retries and no accepted data is lost).
"""

from __future__ import annotations

import logging

import msgspec
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from yapdns.core.batch import decode_batch, decompress
from yapdns.core.errors import MalformedInput
from yapdns.ingest import IngestService
from yapdns.server.security import Principal, api_view, error
from yapdns.server.sensors.services import record_ingest
from yapdns.server.store import get_store

log = logging.getLogger(__name__)


def _read_body(request: HttpRequest, limit: int) -> bytes | HttpResponse:
    declared = request.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        return _too_large(limit)
    body = request.read(limit + 1)
    if len(body) > limit:
        return _too_large(limit)
    if declared and declared.isdigit() and len(body) < int(declared):  # the client went away mid-upload
        return error(400, f"request body cut short: {len(body)} of {declared} bytes")
    return body


def _too_large(limit: int) -> HttpResponse:
    return error(413, f"request body exceeds {limit} bytes; send smaller batches (agent: lower batch size)")


@api_view("ingest", methods=("POST",))
def ingest(request: HttpRequest, principal: Principal) -> HttpResponse:
    """Validate, normalize and apply one batch; reply with accept/reject counts."""
    assert principal.sensor is not None
    limit = settings.MAX_INGEST_BYTES
    body = _read_body(request, limit)
    if isinstance(body, HttpResponse):
        return body
    try:
        raw = decompress(body, request.headers.get("Content-Encoding"))
        if len(raw) > 4 * limit:
            return _too_large(4 * limit)
        batch = decode_batch(raw, request.content_type or "", request.headers.get("X-Batch-Id"))
    except MalformedInput as exc:
        return error(400, str(exc), line=exc.line)
    try:
        result = IngestService(get_store()).submit(principal.sensor.name, batch)
    except Exception:  # any store failure: nothing was applied, the sensor must retry
        log.exception("ingest from %s failed", principal.sensor.name)
        response = error(503, "the record store is unavailable; retry later")
        response["Retry-After"] = "5"
        return response
    record_ingest(principal.sensor.pk, result.accepted, result.rejected, result.replayed)
    return JsonResponse(msgspec.to_builtins(result))
