"""The newly observed domains API: a filtered, paged list and an NDJSON stream a SIEM can follow.

* ``GET /api/v1/nod?since=&sensor=&evidence=&within=&level=name|domain&limit=&cursor=``:
  ``{"names": [...], "next_cursor", "limited"}`` in discovery order;
* ``GET /api/v1/nod/stream?cursor=&follow=<seconds>&...``: the same items
  as NDJSON lines (each with its ``cursor``), then, for up to ``follow``
  seconds (at most ``FOLLOW_MAX``), new ones as they are stored. Reconnect
  with the last cursor processed: no gap, no repeat.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping

from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from yapdns.core.errors import InvalidQuery
from yapdns.server.detection import nod
from yapdns.server.query import params
from yapdns.server.security import Principal, api_view, error
from yapdns.server.store import get_store
from yapdns.storage.base import Store
from yapdns.storage.query import NameMatch

LIMIT_MAX = 1000
FOLLOW_MAX = 300
POLL_SECONDS = 1.0


def nod_query(given: Mapping[str, str]) -> nod.NodQuery:
    """The NOD filters of a request (``InvalidQuery`` says what is wrong)."""
    level = given.get("level", "name")
    if level not in ("name", "domain"):
        raise InvalidQuery("level must be name or domain")
    within = (given.get("within") or "").strip()
    since = params.integer(given, "since")
    if since is not None and since < 0:
        since = int(time.time()) + since
    return nod.NodQuery(
        since=since,
        sensor=given.get("sensor") or None,
        evidence=params.evidence(given),
        within=NameMatch.parse(within.removeprefix("*.")).name if within else None,
        level=level,  # type: ignore[arg-type]
        limit=min(params.integer(given, "limit", 100, minimum=1) or 100, LIMIT_MAX),
    )


@api_view("query")
def nod_list(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/nod``: one page of newly observed names (or registered domains)."""
    try:
        query = nod_query(request.GET)
        items, cursor, limited = nod.nod_page(get_store(), query, request.GET.get("cursor"))
    except InvalidQuery as exc:
        return error(400, str(exc))
    return JsonResponse({"names": [i.as_json() for i in items], "next_cursor": cursor, "limited": limited})


@api_view("query")
def nod_stream(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/nod/stream``: NDJSON in discovery order from ``cursor``, following for ``follow`` seconds."""
    try:
        query = nod_query(request.GET)
        after = nod.parse_cursor(request.GET.get("cursor"))
        follow = min(params.integer(request.GET, "follow", 0, minimum=0) or 0, FOLLOW_MAX)
    except InvalidQuery as exc:
        return error(400, str(exc))
    return StreamingHttpResponse(_lines(get_store(), query, after, follow), content_type="application/x-ndjson")


def _lines(store: Store, query: nod.NodQuery, after: int, follow: int) -> Iterator[bytes]:
    deadline = time.monotonic() + follow
    while True:
        for step in nod.scan(store, query, after):
            if isinstance(step, int):
                after = step
            else:
                after = step.seq
                yield json.dumps(step.as_json()).encode() + b"\n"
        if time.monotonic() >= deadline:
            return
        time.sleep(POLL_SECONDS)
