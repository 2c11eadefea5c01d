"""The sensors API (under ``/api/v1/``)."""

from django.urls import path

from yapdns.server.sensors import views

urlpatterns = [
    path("sensors", views.sensors, name="sensors"),
    path("sensors/<str:name>/revoke", views.revoke_sensor, name="sensor-revoke"),
]
