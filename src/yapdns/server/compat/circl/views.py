"""CIRCL pDNS view: ``GET /pdns/query/<q>`` answered as COF NDJSON.

* One RR per line: ``rrname``, ``rrtype``, ``rdata`` (a string), integer
  ``time_first``/``time_last``/``count``, and ``origin``, always. Names have
  no trailing dot. A record seen in zone files also has ``zone_time_first``/
  ``zone_time_last``; one seen only there repeats its zone times in
  ``time_first``/``time_last``, which pypdns requires (``cof.to_cof``).
* ``rrtype`` is a string, unless the answer holds a type pypdns cannot name
  (``RdataType[...]`` would fail); then every ``rrtype`` of that answer is
  its number, so ``sorted(..., key=rrtype)`` never compares str with int.
* ``dribble-filter-rrtype`` filters (an unknown type gives an empty answer),
  ``dribble-paginate-count`` pages and ``dribble-paginate-cursor`` resumes
  (``query.py``); ``dribble-disable-active-query`` is accepted and ignored:
  YAPDNS is passive. Without paging an answer holds at most
  ``CIRCL_MAX_ROWS`` lines, and then ``x-dribble-errors`` says so.
* No match is 200 with an empty body. 401 (``WWW-Authenticate: Basic``) for
  missing or wrong credentials, 429 for an exhausted quota.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import dns.rdatatype
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from yapdns.core.cof import ndjson_lines, to_cof
from yapdns.core.errors import InvalidQuery, InvalidRRType
from yapdns.core.model import Record
from yapdns.core.rrtypes import rrtype_code
from yapdns.server.compat import rawpath
from yapdns.server.compat.auth import Refusal, charge, circl_caller, compat_view, log_identification, refusal_response
from yapdns.server.compat.circl.query import CirclQuery, Position
from yapdns.server.monitoring.metrics import NAME_SHAPES, QUERIES
from yapdns.server.store import get_store
from yapdns.storage.query import TypeFilter, parse_integer

PREFIX = "/pdns/query/"
ORIGIN = "urn:yapdns"
PAGE_MAX = 1000


def _text(status: int, body: str) -> HttpResponse:
    response = HttpResponse(body + "\n", status=status, content_type="text/plain; charset=utf-8")
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="yapdns"'
    return response


@compat_view
def query(request: HttpRequest) -> HttpResponse:
    """``GET /pdns/query/<q>`` (see module doc)."""
    if request.method not in ("GET", "HEAD"):
        return _text(405, "Error: only GET is supported")
    try:
        caller = circl_caller(request)
        q = rawpath.rest_after(request, PREFIX).strip()
        if not q:
            raise InvalidQuery("give a name, an IP or a CIDR after /pdns/query/")
        cursor = request.headers.get("dribble-paginate-cursor")
        start = Position.from_int(cursor) if cursor else None
        if start is None:
            charge(caller)  # a query counts once, not once per page
    except Refusal as exc:
        return refusal_response(exc, _text)
    except InvalidQuery as exc:
        return _text(400, f"Error: {exc}")
    log_identification(request, caller, {"swclient": request.headers.get("User-Agent", "-")})
    try:
        return _answer(request, q, start)
    except InvalidQuery as exc:
        return _text(400, f"Error: {exc}")


def _answer(request: HttpRequest, q: str, start: Position | None) -> HttpResponse:
    types = _filter(request.headers.get("dribble-filter-rrtype"))
    if types is None:
        return _ndjson([])
    circl = CirclQuery(q, types)
    if start is None:  # a query counts once, not once per page
        QUERIES.labels("circl", "ip" if circl.name is None else NAME_SHAPES[circl.name.kind]).inc()
    store = get_store()
    count = request.headers.get("dribble-paginate-count")
    if count is None and start is None:
        cap = int(settings.CIRCL_MAX_ROWS)
        rows = list(circl.all_rows(store, cap))
        response = _ndjson(rows[:cap])
        if len(rows) > cap:
            response["x-dribble-errors"] = json.dumps({"error": "maxset", "value": cap})
        return response
    rows, following = circl.page(store, start or Position(), _page_size(count))
    response = _ndjson(rows)
    if following is not None:
        response["x-dribble-cursor"] = str(following.to_int())
    return response


def _filter(value: str | None) -> TypeFilter | None:
    """The rrtype filter; None when the header names no valid type (the answer is then empty)."""
    if not value or not value.strip():
        return TypeFilter()
    try:
        return TypeFilter(codes=frozenset({rrtype_code(value.strip())}))
    except InvalidRRType:
        return None


def _page_size(value: str | None) -> int:
    if value is None or not value.strip():
        return PAGE_MAX
    return min(parse_integer("dribble-paginate-count", value, minimum=1), PAGE_MAX)


def _pypdns_can_name(rrtype: str) -> bool:
    return rrtype.upper() in dns.rdatatype.RdataType.__members__


def _ndjson(rows: Iterable[Record]) -> HttpResponse:
    objects = [to_cof(r, ORIGIN, always_traffic=True) for r in rows]
    if not all(_pypdns_can_name(str(o["rrtype"])) for o in objects):
        for o in objects:
            o["rrtype"] = rrtype_code(str(o["rrtype"]))
    return HttpResponse(b"".join(ndjson_lines(objects)), content_type="application/x-ndjson")
