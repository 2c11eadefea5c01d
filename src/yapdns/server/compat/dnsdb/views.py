"""DNSDB API v2 views: ``ping`` (open), ``rate_limit``, and every lookup, summary and Flex path.

One catch-all view routes on the raw path (``rawpath.py``). Everything that
can be refused is refused before the 200: 404 unknown path, 403 bad key,
401 expired quota, 429 exhausted quota, 400 bad component or parameter,
416 offset too large. After that the answer is a SAF stream (``saf.py``).
Error bodies are one line of plain text, as DNSDB sends them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from yapdns.core.errors import InvalidQuery
from yapdns.server.compat import params, quota, rawpath
from yapdns.server.compat.auth import (
    Caller,
    Refusal,
    charge,
    compat_view,
    dnsdb_caller,
    log_identification,
    refusal_response,
)
from yapdns.server.compat.dnsdb import lookups, routes
from yapdns.server.compat.dnsdb.saf import saf_lines
from yapdns.server.limits import clamped, mark_results_max
from yapdns.server.monitoring.metrics import NAME_SHAPES, QUERIES
from yapdns.server.security import public
from yapdns.server.store import get_store

PREFIX = "/dnsdb/v2/"
Runner = Callable[..., Iterator[dict[str, object]]]
_RUNNERS: dict[str, Runner] = {
    "lookup": lookups.lookup_rows,
    "summarize": lookups.summary_rows,
    "flex": lookups.flex_rows,
}


def text(status: int, body: str) -> HttpResponse:
    return HttpResponse(body + "\n", status=status, content_type="text/plain; charset=utf-8")


def _json(obj: object) -> HttpResponse:
    return HttpResponse(json.dumps(obj, separators=(",", ":")) + "\n", content_type="application/json")


@public
def ping(request: HttpRequest) -> HttpResponse:
    """``GET /dnsdb/v2/ping``: ``{"ping":"ok"}``, with or without a key."""
    return _json({"ping": "ok"})


@compat_view
def rate_limit(request: HttpRequest) -> HttpResponse:
    """``GET /dnsdb/v2/rate_limit``: the key's quota (``{"rate": {...}}``)."""
    try:
        caller = dnsdb_caller(request)
    except Refusal as exc:
        return refusal_response(exc, text)
    return _json({"rate": quota.rate(caller.gate)})


@compat_view
def dispatch(request: HttpRequest) -> HttpResponseBase:
    """Every other ``/dnsdb/...`` path."""
    if request.method not in ("GET", "HEAD"):
        return text(405, "Error: only GET is supported")
    try:
        call = routes.parse(_dnsdb_parts(request))
    except routes.UnknownPath:
        return text(404, "Error: unrecognized or missing top-level components")
    except InvalidQuery as exc:
        return text(400, f"Error: {exc}")
    return _authorized(request, call)


def _authorized(request: HttpRequest, call: routes.DnsdbCall) -> HttpResponseBase:
    try:
        caller = dnsdb_caller(request)
        opts = _options(request, call, caller)
        charge(caller)
    except Refusal as exc:
        return refusal_response(exc, text)
    except params.OffsetTooLarge as exc:
        return text(416, str(exc))
    except InvalidQuery as exc:
        return text(400, f"Error: {exc}")
    log_identification(request, caller, dict(request.GET.items()))
    response = _answer(call, opts, caller)
    requested = params.integer(request.GET, "limit")
    cap = caller.gate.results_max
    if call.verb != "summarize" and clamped(params.DEFAULT_LIMIT if requested is None else requested, cap):
        mark_results_max(response, cap)  # and SAF ends with "limited" when the cap cut the answer
    return response


def _dnsdb_parts(request: HttpRequest) -> list[str]:
    if not request.path.startswith(PREFIX):
        raise routes.UnknownPath()
    return rawpath.segments_after(request, PREFIX)


def _options(request: HttpRequest, call: routes.DnsdbCall, caller: Caller) -> lookups.Options:
    q = request.GET
    return lookups.Options(
        limit=params.limit(q, caller.gate.results_max),
        offset=params.offset(q, caller.gate.offset_max) if call.verb != "summarize" else 0,
        fence=params.fence(q),
        humantime=params.boolean(q, "humantime", False),
        aggr=params.boolean(q, "aggr", True),
        max_count=params.max_count(q) if call.verb == "summarize" else None,
        exclude=q.get("exclude") or None if call.verb == "flex" else None,
        verbose=params.boolean(q, "verbose", True),
        time_budget=float(settings.FLEX_TIME_BUDGET),
    )


def _shape(call: routes.DnsdbCall) -> str:
    """The query shape of a DNSDB call (``monitoring.metrics.query_shape``'s names)."""
    if call.verb == "flex":
        return "flex"
    if call.kind == "rrset" and call.name is not None:
        return NAME_SHAPES[call.name.kind]
    return {"rdata_name": "rdata_name", "rdata_ip": "ip"}.get(call.kind, "rdata")


def _answer(call: routes.DnsdbCall, opts: lookups.Options, caller: Caller) -> HttpResponseBase:
    runner = _RUNNERS[call.verb]
    QUERIES.labels("dnsdb", _shape(call)).inc()
    try:
        rows = runner(get_store(), call, opts)
    except InvalidQuery as exc:  # e.g. a Flex pattern rejected while compiling
        return text(400, f"Error: {exc}")
    limit = 1 if call.verb == "summarize" else opts.limit
    response = StreamingHttpResponse(saf_lines(rows, limit), content_type="application/x-ndjson")
    for name, value in quota.headers(caller.gate).items():
        response[name] = value
    return response
