"""``/metrics`` (Prometheus text format) and ``/api/v1/ready`` (readiness)."""

from django.urls import path

from yapdns.server.monitoring import views

urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
    path("api/v1/ready", views.ready, name="ready"),
]
