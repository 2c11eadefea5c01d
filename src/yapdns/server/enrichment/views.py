"""``GET /api/v1/context/<ip>``: an address's context history; ``GET /api/v1/enrichment``: the datasets used;
``GET/POST /api/v1/upstream``: the upstream connectors, and asking one (``upstream.py``)."""

from __future__ import annotations

import ipaddress

import msgspec
from django.http import HttpRequest, HttpResponse, JsonResponse

from yapdns.core.errors import InvalidQuery
from yapdns.server.enrichment import services, upstream
from yapdns.server.jsonbody import decode_body
from yapdns.server.security import Principal, api_view, error
from yapdns.server.store import get_store
from yapdns.upstream.base import UpstreamError


@api_view("query")
def address_context(request: HttpRequest, principal: Principal, addr: str) -> HttpResponse:
    try:
        ip = str(ipaddress.ip_address(addr.strip()))
    except ValueError:
        return error(400, f"not an IP address: {addr[:80]!r}")
    rows = services.contexts(get_store(), [ip]).get(ip, [])
    return JsonResponse({
        "ip": ip,
        "current": services.context_json(services.as_of(rows)),
        "history": [msgspec.to_builtins(r) for r in rows],
    })


@api_view("query")
def enrichment(request: HttpRequest, principal: Principal) -> HttpResponse:
    return JsonResponse({"datasets": msgspec.to_builtins(services.datasets())})


class _Ask(msgspec.Struct, forbid_unknown_fields=True):
    connector: str
    query: str


@api_view("manage", methods=("GET", "POST"))
def upstream_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    """GET: the configured connectors and their quotas; POST ``{"connector", "query"}``: ask one (admin or
    analyst: it spends quota and adds records)."""
    if request.method == "GET":
        return JsonResponse({"connectors": msgspec.to_builtins(upstream.status())})
    spec = decode_body(request, _Ask)
    if isinstance(spec, HttpResponse):
        return spec
    try:
        result = upstream.ask(spec.connector, spec.query, by=principal.user.username if principal.user else "")
    except (upstream.NotConfigured, InvalidQuery, UpstreamError) as exc:
        return error(_STATUS.get(type(exc), 502), str(exc))
    return HttpResponse(msgspec.json.encode(result), content_type="application/json")


_STATUS: dict[type[Exception], int] = {upstream.NotConfigured: 404, InvalidQuery: 400, upstream.QuotaExceeded: 429}
