"""``POST /upstream/ask``: ask an upstream pDNS service about the page's name or address (analyst or admin),
then show what it did, with a link back to the page (``server/enrichment/upstream.py`` does the work)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from yapdns.core.errors import InvalidQuery
from yapdns.server.accounts.roles import can_manage_sensors
from yapdns.server.dashboard.views.common import problem, requires
from yapdns.server.enrichment import upstream
from yapdns.server.security import methods
from yapdns.upstream.base import UpstreamError


@methods("POST")
@requires(can_manage_sensors, "ask upstream services")
def ask_upstream(request: HttpRequest) -> HttpResponse:
    try:
        query, is_ip = upstream.normalize_query(request.POST.get("query", ""))
        result = upstream.ask(request.POST.get("connector", ""), query, by=request.user.get_username())
    except (InvalidQuery, UpstreamError, upstream.NotConfigured) as exc:
        return problem(request, 400 if isinstance(exc, InvalidQuery | upstream.NotConfigured) else 502,
                       "Upstream query failed", str(exc))
    back = reverse("dashboard:ip", args=[query]) if is_ip else reverse("dashboard:domain", args=[query])
    return render(request, "dashboard/upstream.html", {"result": result, "back": back, "is_ip": is_ip})
