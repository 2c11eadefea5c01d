"""Declaring a background job: a ``django_tasks`` task with retries and backoff.

``@job(retries=3, backoff=30)`` turns a module-level function into a task that
``yapdns worker`` runs. When an attempt raises, the library keeps that attempt
as FAILED with its error and traceback; while tries remain, this module first
enqueues the next attempt to run after ``backoff * 2**(attempt - 1)`` seconds
(at most ``max_backoff``). The last attempt's failure is final and stays for
the dashboard (``services.queue_status``).

Guarantees a job can rely on, and must allow for:

* arguments are JSON values (the task row stores them);
* one claimed attempt runs in one worker only (the library locks the row);
* delivery is *at least once*: a job whose worker died mid-run is handed back
  to the queue (``supervisor.py``), so every job must be idempotent.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task

ATTEMPT = "yapdns_attempt"  # keyword carrying the attempt number (1 for the first)


@dataclass(frozen=True)
class JobSpec:
    """How often a job is tried and how long it waits between tries."""

    retries: int = 3
    backoff: float = 30.0
    max_backoff: float = 3600.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before the attempt after ``attempt``."""
        return float(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))


SPECS: dict[str, JobSpec] = {}
"""Task module path → its retry policy, filled as job modules are imported."""


def job(
    *, retries: int = 3, backoff: float = 30.0, max_backoff: float = 3600.0, queue_name: str = "default"
) -> Callable[[Callable[..., Any]], Task[..., Any]]:
    """Make ``fn`` a background job tried ``retries + 1`` times at most."""
    spec = JobSpec(retries, backoff, max_backoff)

    def decorate(fn: Callable[..., Any]) -> Task[..., Any]:
        @functools.wraps(fn)
        def attempt(*args: Any, **kwargs: Any) -> Any:
            number = int(kwargs.pop(ATTEMPT, 1))
            try:
                return fn(*args, **kwargs)
            except Exception:
                if number <= spec.retries:
                    run_after = timezone.now() + dt.timedelta(seconds=spec.delay(number))
                    the_task.using(run_after=run_after).enqueue(*args, **kwargs, **{ATTEMPT: number + 1})
                raise

        the_task: Task[..., Any] = task(queue_name=queue_name)(attempt)
        SPECS[the_task.module_path] = spec
        return the_task

    return decorate


def attempt_of(kwargs: dict[str, Any]) -> int:
    """The attempt number stored in a task row's keyword arguments."""
    value = kwargs.get(ATTEMPT, 1)
    return value if isinstance(value, int) else 1
