"""What runs beside the library's worker loop in each ``yapdns worker`` process.

Every ``heartbeat`` seconds, in its own thread, the supervisor:

* refreshes this worker's ``WorkerBeat`` row;
* hands back to the queue every RUNNING job whose worker has not beaten for
  ``lease`` seconds (killed, crashed, or its host lost), so jobs survive a
  ``kill -9``; a job that has lost its worker ``MAX_CLAIMS`` times is marked
  FAILED instead (it is likely what kills the worker);
* enqueues the periodic jobs that are due (``schedule.PERIODIC``): a run is
  claimed by a conditional update of its ``PeriodicRun`` row, so two workers
  never enqueue the same run.

Each step is a short transaction; a failed step is logged and retried at the
next tick, never fatal to the worker.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Sequence
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db.models import DBTaskResult

from yapdns.server.workers.models import PeriodicRun, WorkerBeat
from yapdns.server.workers.schedule import PERIODIC, Periodic

log = logging.getLogger(__name__)
MAX_CLAIMS = 3
LOST = "yapdns.server.workers.supervisor.WorkerLost"


class WorkerLost(Exception):
    """The worker running this job stopped before it finished, too many times."""


class Supervisor:
    """Heartbeat, recovery of orphaned jobs and the periodic schedule, for one worker."""

    def __init__(
        self, worker_id: str, *, heartbeat: float, lease: float, periodic: Sequence[Periodic] = PERIODIC
    ) -> None:
        self.worker_id = worker_id
        self.heartbeat = heartbeat
        self.lease = lease
        self.periodic = periodic
        self.started_at = timezone.now()

    def tick(self) -> None:
        """One round of every duty."""
        self.beat()
        self.recover()
        self.schedule()

    def run(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set (the worker's supervisor thread)."""
        while not stop.wait(self.heartbeat):
            try:
                self.tick()
            except Exception:
                log.exception("worker supervisor tick failed; retrying at the next one")
            finally:
                close_old_connections()

    def beat(self) -> None:
        now = timezone.now()
        WorkerBeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"host": socket.gethostname(), "pid": os.getpid(), "started_at": self.started_at, "seen_at": now},
        )

    def retire(self) -> None:
        """Forget this worker's beat (a clean stop)."""
        WorkerBeat.objects.filter(worker_id=self.worker_id).delete()

    def recover(self) -> int:
        """Requeue the running jobs of workers that stopped beating; return how many."""
        now = timezone.now()
        live = set(WorkerBeat.objects.filter(seen_at__gte=now - dt.timedelta(seconds=self.lease)).values_list(
            "worker_id", flat=True))
        WorkerBeat.objects.filter(seen_at__lt=now - dt.timedelta(days=1)).delete()
        handed_back = 0
        for row in DBTaskResult.objects.running().only("id", "worker_ids", "started_at"):
            if row.worker_ids and row.worker_ids[-1] in live:
                continue
            handed_back += self._hand_back(row, now)
        return handed_back

    def _hand_back(self, row: DBTaskResult[..., Any], now: dt.datetime) -> int:
        same = DBTaskResult.objects.filter(id=row.id, status=TaskResultStatus.RUNNING, started_at=row.started_at)
        if len(row.worker_ids) >= MAX_CLAIMS:
            log.warning("job %s lost its worker %d times: marked failed", row.id, len(row.worker_ids))
            return same.update(
                status=TaskResultStatus.FAILED, finished_at=now, exception_class_path=LOST,
                traceback=f"{LOST}: {WorkerLost.__doc__} (workers {', '.join(row.worker_ids)})\n",
            )
        log.warning("job %s lost its worker %s: handed back to the queue", row.id, row.worker_ids[-1:])
        return same.update(status=TaskResultStatus.READY, started_at=None)

    def schedule(self) -> int:
        """Enqueue the periodic jobs that are due; return how many this worker enqueued."""
        return sum(self._enqueue_if_due(entry, timezone.now()) for entry in self.periodic)

    def _enqueue_if_due(self, entry: Periodic, now: dt.datetime) -> int:
        row, _ = PeriodicRun.objects.get_or_create(name=entry.name, defaults={"next_run_at": now})
        if row.next_run_at > now:
            return 0
        the_task: Task[..., object] = import_string(entry.task)
        with transaction.atomic():
            claimed = PeriodicRun.objects.filter(name=entry.name, next_run_at=row.next_run_at).update(
                next_run_at=now + dt.timedelta(seconds=entry.every), last_enqueued_at=now
            )
            if not claimed:
                return 0  # another worker took this run
            pending = DBTaskResult.objects.filter(
                task_path=the_task.module_path, status__in=(TaskResultStatus.READY, TaskResultStatus.RUNNING)
            )
            if pending.exists():
                return 0  # the previous run is still queued or running
            the_task.enqueue()
        return 1
