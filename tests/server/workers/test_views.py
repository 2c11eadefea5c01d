"""The queue as the API and the overview show it: depth, failures (escaped), and who may see it."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.server.conftest import auth, make_user
from tests.server.workers import sample_jobs
from yapdns.server.accounts.services import create_query_token
from yapdns.server.workers.jobs import ATTEMPT
from yapdns.server.workers.services import queue_status

HOSTILE = "<script>alert(1)</script>"


def _fail(attempt: int) -> None:
    result = sample_jobs.always_fails.enqueue(message=HOSTILE, **{ATTEMPT: attempt})
    DBTaskResult.objects.filter(id=result.id).update(
        status=TaskResultStatus.FAILED, finished_at=timezone.now(), exception_class_path="builtins.ValueError",
        traceback=f"Traceback (most recent call last):\n  ...\nValueError: {HOSTILE}\n",
    )


def test_the_api_shows_depth_and_failures_to_managers_only(client: Client, store: object) -> None:
    sample_jobs.tick.enqueue()
    _fail(1)
    _fail(2)
    status = queue_status()
    assert (status.ready, status.running, status.failed_7d) == (1, 0, 2)
    assert [(f.attempt, f.tries, f.final) for f in status.failures] == [(2, 2, True), (1, 2, False)]
    reader = create_query_token(make_user("rita", "read-only"), "t")[1]
    analyst = create_query_token(make_user("ana", "analyst"), "t")[1]
    assert client.get("/api/v1/jobs").status_code == 401
    assert client.get("/api/v1/jobs", **auth(reader)).status_code == 403
    body = client.get("/api/v1/jobs", **auth(analyst)).json()
    assert body["ready"] == 1 and body["failures"][0]["error"] == f"ValueError: {HOSTILE}"


def test_the_overview_shows_the_queue_and_renders_errors_inert(client: Client, store: object) -> None:
    _fail(2)
    client.force_login(make_user("rita", "read-only"))
    page = client.get("/").content.decode()
    assert 'id="jobs"' in page and "gave up" in page and "no worker running" in page
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
