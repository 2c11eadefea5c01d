"""workers: background jobs, run by ``yapdns worker`` on Django's tasks framework.

Jobs are ``django_tasks`` tasks stored by the ``django_tasks_db`` backend in the
application database (SQLite by default, PostgreSQL when configured), so the
worker needs no other service. This app adds what the library leaves out:
retries with backoff (``jobs.job``), recovery of jobs whose worker died
(``supervisor.py``, through ``WorkerBeat`` heartbeats), the periodic schedule
(``schedule.PERIODIC``, claimed through ``PeriodicRun``) and the queue's
status for the dashboard and ``/api/v1/jobs`` (``services.py``, ``views.py``).
Tests: ``tests/server/workers/``.
"""

from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "yapdns.server.workers"
    label = "workers"
    verbose_name = "Background jobs"
