from django.urls import path

from yapdns.server.query import openapi, views
from yapdns.server.sensors import api as sensors_api

urlpatterns = [
    path("records", views.records, name="records"),
    path("record", views.record_detail, name="record"),
    path("rrsets", views.rrsets, name="rrsets"),
    path("negatives", views.negatives, name="negatives"),
    path("qnames", views.qnames, name="qnames"),
    path("bulk", views.bulk, name="bulk"),
    path("stats", views.stats, name="stats"),
    path("health", views.health, name="health"),
    path("sensors", sensors_api.sensors, name="sensors"),
    path("sensors/<str:name>/revoke", sensors_api.revoke_sensor, name="sensor-revoke"),
    path("tokens", sensors_api.tokens, name="tokens"),
    path("tokens/<str:token_id>/revoke", sensors_api.revoke_token, name="token-revoke"),
    path("openapi.json", openapi.schema_view, name="openapi"),
]
