"""``GET /api/v1/jobs``: the background queue's depth, workers and recent failures (admin or analyst)."""

from __future__ import annotations

import msgspec
from django.http import HttpRequest, HttpResponse

from yapdns.server.security import Principal, api_view
from yapdns.server.workers import services


@api_view("manage")
def jobs(request: HttpRequest, principal: Principal) -> HttpResponse:
    body = msgspec.json.encode(services.queue_status())
    return HttpResponse(body, content_type="application/json")
