"""The query API (under ``/api/v1/``): records, RRsets, negatives, query names, bulk, stats, health, OpenAPI."""

from django.urls import path

from yapdns.server.query import openapi, views

urlpatterns = [
    path("records", views.records, name="records"),
    path("record", views.record_detail, name="record"),
    path("rrsets", views.rrsets, name="rrsets"),
    path("negatives", views.negatives, name="negatives"),
    path("qnames", views.qnames, name="qnames"),
    path("bulk", views.bulk, name="bulk"),
    path("stats", views.stats, name="stats"),
    path("health", views.health, name="health"),
    path("openapi.json", openapi.schema_view, name="openapi"),
]
