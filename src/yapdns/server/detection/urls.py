"""The detection API (under ``/api/v1/``): indicators, watchlist entries and alerts."""

from django.urls import path

from yapdns.server.detection import streams, views

urlpatterns = [
    path("indicators/parse", views.parse_indicators, name="indicators-parse"),
    path("watchlist", views.watchlist, name="watchlist"),
    path("watchlist/import", views.watchlist_import, name="watchlist-import"),
    path("evidence/import", views.evidence_import, name="evidence-import"),
    path("watchlist/<str:entry_id>/delete", views.watchlist_delete, name="watchlist-delete"),
    path("alerts", views.alerts, name="alerts"),
    path("alerts/<str:alert_id>", views.alert_detail, name="alert"),
    path("alerts/<str:alert_id>/export", views.alert_export, name="alert-export"),
    path("nod", streams.nod_list, name="nod"),
    path("flux", views.flux_view, name="flux"),
    path("suspicious", views.suspicious, name="suspicious"),
    path("signals/<str:name>", views.signals_view, name="signals"),
    path("nod/stream", streams.nod_stream, name="nod-stream"),
]
