"""The worker's own periodic job: forget old successful task rows.

Failed attempts are kept (the dashboard lists them) until they are older than
``YAPDNS_JOB_FAILURE_DAYS``; successful ones go after ``YAPDNS_JOB_RESULT_DAYS``.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from yapdns import config
from yapdns.server.workers.jobs import job


@job(retries=2, backoff=60)
def prune_job_results() -> int:
    """Delete finished task rows past their keep time; return how many."""
    now = timezone.now()
    ok_before = now - dt.timedelta(days=config.get_int("YAPDNS_JOB_RESULT_DAYS"))
    failed_before = now - dt.timedelta(days=config.get_int("YAPDNS_JOB_FAILURE_DAYS"))
    deleted, _ = DBTaskResult.objects.successful().filter(finished_at__lt=ok_before).delete()
    gone, _ = DBTaskResult.objects.failed().filter(finished_at__lt=failed_before).delete()
    return deleted + gone
