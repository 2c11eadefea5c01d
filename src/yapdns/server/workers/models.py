"""What the worker keeps besides the library's task rows.

* ``WorkerBeat``: one row per running worker process, refreshed every
  heartbeat; a running job whose worker stopped beating is handed back to the
  queue (``supervisor.py``).
* ``PeriodicRun``: when each periodic job is next due. Workers claim a run by
  a conditional update of this row, so exactly one of them enqueues it.
"""

from __future__ import annotations

from django.db import models


class WorkerBeat(models.Model):
    """A worker process and when it last said it was alive."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.host}:{self.pid})"


class PeriodicRun(models.Model):
    """The next time one periodic job (by its name in ``schedule.PERIODIC``) is due."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
