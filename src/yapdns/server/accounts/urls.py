"""The query tokens API (under ``/api/v1/``)."""

from django.urls import path

from yapdns.server.accounts import views

urlpatterns = [
    path("tokens", views.tokens, name="tokens"),
    path("tokens/<str:token_id>/revoke", views.revoke_token, name="token-revoke"),
]
