"""URL map: one include per server app."""

from __future__ import annotations

from django.urls import include, path

handler404 = "yapdns.server.security.not_found"
handler500 = "yapdns.server.readonly.server_error"  # 503 for a write refused by a read-only database

urlpatterns = [
    path("api/v1/", include("yapdns.server.ingest.urls")),
    path("api/v1/", include("yapdns.server.query.urls")),
    path("api/v1/", include("yapdns.server.sensors.urls")),
    path("api/v1/", include("yapdns.server.accounts.urls")),
    path("api/v1/", include("yapdns.server.detection.urls")),
    path("", include("yapdns.server.monitoring.urls")),
    path("api/v1/", include("yapdns.server.workers.urls")),
    path("api/v1/", include("yapdns.server.enrichment.urls")),
    path("", include("yapdns.server.compat.urls")),
    path("", include("yapdns.server.dashboard.urls")),
]
