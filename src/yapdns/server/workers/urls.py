"""The background jobs API (under ``/api/v1/``)."""

from django.urls import path

from yapdns.server.workers import views

urlpatterns = [
    path("jobs", views.jobs, name="jobs"),
]
