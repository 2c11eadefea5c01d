"""The pivot graph page and the JSON endpoint that feeds it (``GET /api/v1/pivot``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from yapdns.core.errors import InvalidQuery
from yapdns.server.dashboard import pivot
from yapdns.server.dashboard.search import day_epoch
from yapdns.server.enrichment import services as enrichment
from yapdns.server.query import params
from yapdns.server.security import Principal, api_view, error
from yapdns.server.store import get_store
from yapdns.storage.query import TimeFence


def pivot_page(request: HttpRequest) -> HttpResponse:
    """``/pivot?q=<name or address>``: the interactive graph (drawn by ``js/pivot.js``)."""
    seed = (request.GET.get("q") or "").strip()
    context: dict[str, object] = {"q": seed, "from": request.GET.get("from", ""), "to": request.GET.get("to", "")}
    if seed:
        try:
            context["seed"] = pivot.node_key(seed)
        except InvalidQuery as exc:
            context["error"] = str(exc)
    return render(request, "dashboard/pivot.html", context)


@api_view("query")
def pivot_api(request: HttpRequest, principal: Principal) -> HttpResponse:
    """``GET /api/v1/pivot?node=<name|ip>[&limit=&cursor_out=&cursor_in=&from=&to=]``: one expansion."""
    try:
        spec = pivot.PivotRequest(
            node=request.GET.get("node") or "",
            limit=params.integer(request.GET, "limit", pivot.DEFAULT_LIMIT) or pivot.DEFAULT_LIMIT,
            cursor_out=request.GET.get("cursor_out") or None,
            cursor_in=request.GET.get("cursor_in") or None,
            fence=_window(request),
        )
        if not spec.node:
            raise InvalidQuery("node is required (a name or an address)")
        graph = pivot.expand(get_store(), spec)
    except InvalidQuery as exc:
        return error(400, str(exc))
    answer = graph.as_json()
    enrichment.annotate_nodes(get_store(), answer["nodes"])  # type: ignore[arg-type]
    return JsonResponse(answer)


def _window(request: HttpRequest) -> TimeFence:
    """Records active in [from, to]: DNSDB fences, or dates ``from``/``to`` (YYYY-MM-DD)."""
    fence = params.fence(request.GET)
    start, end = request.GET.get("from"), request.GET.get("to")
    return TimeFence(
        first_before=day_epoch(end, True) if end else fence.first_before,
        first_after=fence.first_after,
        last_before=fence.last_before,
        last_after=day_epoch(start, False) if start else fence.last_after,
    )
