"""The monitoring app: Prometheus metrics (``/metrics``), the readiness check, request ids and JSON logs.

It owns every metric the server exports (``metrics.py``), how they are
scraped across gunicorn's worker processes (``exposition.py``), and the
middleware that times requests and tags log lines (``middleware.py``).
It keeps no models.
"""

from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "yapdns.server.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from yapdns.server.monitoring import metrics
        from yapdns.storage.observe import set_writer_observer

        set_writer_observer(metrics.WRITER_OBSERVER)
        user_login_failed.connect(metrics.count_login_failure, dispatch_uid="yapdns-login-failures")
