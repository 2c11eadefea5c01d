"""``GET /api/v1/context/<ip>``: an address's context history; ``GET /api/v1/enrichment``: the datasets used."""

from __future__ import annotations

import ipaddress

import msgspec
from django.http import HttpRequest, HttpResponse, JsonResponse

from yapdns.server.enrichment import services
from yapdns.server.security import Principal, api_view, error
from yapdns.server.store import get_store


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
