"""query: the own query API under ``/api/v1/`` (records, RRsets, negatives, query names, bulk, stats, OpenAPI).

``views.py`` (routed by ``urls.py``) reads the store; ``params.py`` parses
the query string; ``openapi.py`` describes every route of ``/api/v1/``. No
models of its own. Tests: ``tests/server/query/``.
"""

from django.apps import AppConfig


class QueryConfig(AppConfig):
    name = "yapdns.server.query"
    label = "yapdns_query"
