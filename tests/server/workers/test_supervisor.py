"""The supervisor's duties in-process: one enqueue per due periodic run, and handing back orphaned jobs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.server.workers import sample_jobs
from yapdns.server.workers.models import PeriodicRun, WorkerBeat
from yapdns.server.workers.schedule import PERIODIC, Periodic
from yapdns.server.workers.supervisor import LOST, MAX_CLAIMS, Supervisor

TICK = Periodic("tick", "tests.server.workers.sample_jobs.tick", every=60)
pytestmark = pytest.mark.django_db(transaction=True)


def _sup(worker_id: str) -> Supervisor:
    return Supervisor(worker_id, heartbeat=1, lease=3, periodic=[TICK])


def test_a_due_run_is_enqueued_by_one_worker_and_not_while_the_last_is_pending() -> None:
    a, b = _sup("a"), _sup("b")
    assert (a.schedule(), b.schedule()) == (1, 0)  # b finds it claimed: next run in 60 s
    PeriodicRun.objects.filter(name="tick").update(next_run_at=timezone.now() - dt.timedelta(seconds=1))
    assert b.schedule() == 0  # due again, but the first run is still queued
    assert DBTaskResult.objects.filter(task_path=sample_jobs.tick.module_path).count() == 1
    DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL)
    PeriodicRun.objects.filter(name="tick").update(next_run_at=timezone.now() - dt.timedelta(seconds=1))
    assert (b.schedule(), a.schedule()) == (1, 0)


def _running(worker_ids: list[str]) -> DBTaskResult:  # type: ignore[type-arg]
    result = sample_jobs.tick.enqueue()
    DBTaskResult.objects.filter(id=result.id).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now(), worker_ids=worker_ids
    )
    return DBTaskResult.objects.get(id=result.id)


def test_jobs_of_a_silent_worker_go_back_to_the_queue_and_a_worker_killer_fails() -> None:
    live = _sup("live")
    live.beat()
    WorkerBeat.objects.create(worker_id="dead", host="h", pid=1, started_at=timezone.now(),
                              seen_at=timezone.now() - dt.timedelta(seconds=10))
    mine, orphan, killer = _running(["live"]), _running(["dead"]), _running(["x"] * (MAX_CLAIMS - 1) + ["dead"])
    assert live.recover() == 2
    assert DBTaskResult.objects.get(id=mine.id).status == TaskResultStatus.RUNNING
    assert DBTaskResult.objects.get(id=orphan.id).status == TaskResultStatus.READY
    failed = DBTaskResult.objects.get(id=killer.id)
    assert failed.status == TaskResultStatus.FAILED and failed.exception_class_path == LOST


def test_every_periodic_entry_names_a_job_task() -> None:
    from django.utils.module_loading import import_string

    from yapdns.server.workers.jobs import SPECS

    for entry in PERIODIC:
        assert import_string(entry.task).module_path in SPECS, f"{entry.name}: not a @job"
    assert len({e.name for e in PERIODIC}) == len(PERIODIC)
