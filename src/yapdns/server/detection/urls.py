"""The detection API (under ``/api/v1/``)."""

from django.urls import path

from yapdns.server.detection import views

urlpatterns = [
    path("indicators/parse", views.parse_indicators, name="indicators-parse"),
]
