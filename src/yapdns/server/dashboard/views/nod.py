"""The newly observed domains page: names (or registered domains) in discovery order, with the API's filters."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Evidence
from yapdns.server.dashboard.views.common import problem, store
from yapdns.server.detection import nod
from yapdns.server.detection.streams import nod_query

FILTERS = ("since", "sensor", "evidence", "within", "level")
PAGE = 100


def nod_page(request: HttpRequest) -> HttpResponse:
    """``/nod?since=<date>&sensor=&evidence=&within=&level=&cursor=``."""
    form = {k: request.GET.get(k, "").strip() for k in FILTERS}
    given = {**{k: v for k, v in form.items() if v}, "limit": str(PAGE)}
    try:
        if form["since"]:
            given["since"] = str(_epoch(form["since"]))
        db = store()
        items, cursor, limited = nod.nod_page(db, nod_query(given), request.GET.get("cursor"))
    except InvalidQuery as exc:
        return problem(request, 400, "Bad filter", str(exc))
    context = {
        "items": items,
        "form": form,
        "evidences": [e.value for e in Evidence],
        "sensors": db.sensors(),
        "next_url": f"?{urlencode({**{k: v for k, v in form.items() if v}, 'cursor': cursor})}" if limited else None,
        "stream_url": f"/api/v1/nod/stream?{urlencode({k: v for k, v in given.items() if k != 'limit'})}",
    }
    return render(request, "dashboard/nod.html", context)


def _epoch(text: str) -> int:
    try:
        return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp())
    except ValueError:
        raise InvalidQuery("since must be a date (YYYY-MM-DD)") from None
