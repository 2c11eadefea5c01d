from django.urls import path

from yapdns.server.ingest import views

urlpatterns = [path("ingest", views.ingest, name="ingest")]
