"""The address context API (under ``/api/v1/``)."""

from django.urls import path

from yapdns.server.enrichment import views

urlpatterns = [
    path("context/<str:addr>", views.address_context, name="address-context"),
    path("enrichment", views.enrichment, name="enrichment"),
    path("upstream", views.upstream_view, name="upstream"),
]
