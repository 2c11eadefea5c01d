"""The overview: totals, ingest over time, records by type, new and top names, sensor health, background jobs,
the enrichment datasets in use."""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yapdns.server.dashboard import summaries
from yapdns.server.dashboard.views.common import store
from yapdns.server.enrichment import services as enrichment
from yapdns.server.workers.services import queue_status

NEW_WINDOWS = {"day": 86400, "week": 7 * 86400}
NEW_NAMES_MAX = 25


def overview_page(request: HttpRequest) -> HttpResponse:
    """``/``: the landing page."""
    db = store()
    now = int(time.time())
    stats = db.stats()
    history = db.ingest_history(now - summaries.HISTORY_HOURS * 3600)
    window = request.GET.get("new", "day")
    window = window if window in NEW_WINDOWS else "day"
    health = summaries.sensor_health(history, now)
    context = {
        "stats": stats,
        "chart": {
            "ingest": summaries.ingest_series(history, now),
            "types": sorted(stats.records_by_type.items(), key=lambda kv: -kv[1])[:15],
        },
        "new_window": window,
        "new_names": db.new_names(now - NEW_WINDOWS[window], NEW_NAMES_MAX),
        "top": summaries.top_names(db, stats.records),
        "health": health,
        "sensors_ok": sum(1 for h in health if h.status == "ok"),
        "observations_24h": sum(b.observations for b in history if b.hour >= now - 86400),
        "new_records_24h": sum(b.new_records for b in history if b.hour >= now - 86400),
        "jobs": queue_status(),
        "datasets": enrichment.datasets(),
    }
    return render(request, "dashboard/overview.html", context)
