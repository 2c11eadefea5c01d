from django.apps import AppConfig


class QueryConfig(AppConfig):
    name = "yapdns.server.query"
    label = "yapdns_query"
