from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "yapdns.server.ingest"
    label = "yapdns_ingest"
