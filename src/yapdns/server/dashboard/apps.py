"""dashboard: the analysts' web pages (search, domain and IP pages, pivot graph, overview, management).

Pages in ``views/`` (one module per page), routed by ``urls.py``; models:
``SummarySnapshot`` (``models.py``); the store reads a page needs live beside
them (``search.py``, ``pivot.py``, ``summaries.py``...). Tests:
``tests/server/dashboard/``.
"""

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "yapdns.server.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from yapdns.server.dashboard import checks  # noqa: F401  (registers the asset check)
