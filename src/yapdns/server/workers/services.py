"""The queue's state, shared by the dashboard and ``/api/v1/jobs``.

Counts are index-bounded reads of the task table; the failure list is the
most recent ``FAILURES_SHOWN`` failed attempts, each marked ``final`` when no
retry follows it (its job's tries were used up, or it is not a ``@job``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import msgspec
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from yapdns.server.workers.jobs import SPECS, attempt_of
from yapdns.server.workers.models import WorkerBeat

FAILURES_SHOWN = 20
FAILURE_WINDOW = dt.timedelta(days=7)
LIVE_WITHIN = dt.timedelta(minutes=2)


class JobFailure(msgspec.Struct, frozen=True):
    """One failed attempt of a job."""

    id: str
    task: str
    attempt: int
    tries: int | None
    final: bool
    finished_at: dt.datetime | None
    error: str


class QueueStatus(msgspec.Struct, frozen=True):
    """Queue depth, running jobs, live workers and recent failures."""

    ready: int
    scheduled: int
    running: int
    failed_7d: int
    workers: list[str]
    failures: list[JobFailure]


def _last_line(traceback: str) -> str:
    lines = [line for line in traceback.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""


def _failure(row: DBTaskResult[..., Any]) -> JobFailure:
    spec = SPECS.get(row.task_path)
    if spec is None:
        with contextlib.suppress(Exception):  # a task whose code is gone is shown without its policy
            row.task  # noqa: B018  (importing the task's module registers its spec)
        spec = SPECS.get(row.task_path)
    attempt = attempt_of(row.args_kwargs.get("kwargs", {}))
    tries = spec.retries + 1 if spec else None
    return JobFailure(
        id=str(row.id), task=row.task_path, attempt=attempt, tries=tries,
        final=tries is None or attempt >= tries, finished_at=row.finished_at, error=_last_line(row.traceback),
    )


def queue_status() -> QueueStatus:
    """The queue as the dashboard shows it."""
    now = timezone.now()
    ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    due = ready.ready().count()
    failed = DBTaskResult.objects.failed().filter(finished_at__gte=now - FAILURE_WINDOW)
    recent = failed.order_by("-finished_at")[:FAILURES_SHOWN]
    workers = WorkerBeat.objects.filter(seen_at__gte=now - LIVE_WITHIN).order_by("worker_id")
    return QueueStatus(
        ready=due,
        scheduled=ready.count() - due,
        running=DBTaskResult.objects.running().count(),
        failed_7d=failed.count(),
        workers=[f"{w.host}:{w.pid}" for w in workers],
        failures=[_failure(row) for row in recent],
    )
