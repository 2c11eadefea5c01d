"""``GroupWriter``'s commit hooks when a group fails: its jobs are retried alone, and only those that commit run
their hooks (the backends never fail one job on purpose, so the applier here fails the job it is told to)."""

from __future__ import annotations

import threading
from typing import Any

from tests.storage.builders import obs
from tests.storage.conftest import Queued
from yapdns.storage.base import BatchRef, Then, WriteOutcome
from yapdns.storage.group import GroupWriter, WriteJob


class Applier:
    """Applies nothing; a group holding the batch id ``bad`` fails whole. Held at its first group until ``go``."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.go = threading.Event()

    def connect(self) -> None:
        return None

    def apply(self, conn: None, jobs: list[WriteJob]) -> list[WriteOutcome]:
        self.entered.set()
        self.go.wait(20)
        if any(job.batch is not None and job.batch.batch_id == "bad" for job in jobs):
            raise ValueError("this job cannot be stored")
        return [job.fresh_outcome() for job in jobs]

    def after_group(self, conn: None) -> None: ...

    def healthy(self, conn: None) -> bool:
        return True

    def disconnect(self, conn: None) -> None: ...


class Hook:
    def __init__(self) -> None:
        self.calls: list[list[Any]] = []

    def committed(self, notes: list[tuple[Any, WriteOutcome]]) -> None:
        self.calls.append([note for note, _ in notes])

    def writer_done(self) -> None: ...


def test_a_job_that_fails_runs_no_hook_and_the_rest_of_its_group_still_does(queued: Queued) -> None:
    queued.depth = 3
    applier, hook = Applier(), Hook()
    writer = GroupWriter(applier, group_limit=100)
    errors: list[str] = []

    def write(batch: str) -> None:
        try:
            writer.write([obs(f"{batch}.example", "A", "192.0.2.1")], BatchRef("s1", batch), [Then(hook, batch)])
        except ValueError as exc:
            errors.append(f"{batch}: {exc}")

    threads = [threading.Thread(target=write, args=(batch,)) for batch in ("first", "good", "bad", "fine")]
    threads[0].start()
    assert applier.entered.wait(20)  # the writer applies the first job's group: the others queue, as one group
    for thread in threads[1:]:
        thread.start()
    assert queued.reached.wait(20)
    applier.go.set()
    for thread in threads:
        thread.join(20)
    writer.stop()
    assert errors == ["bad: this job cannot be stored"]
    assert hook.calls == [["first"], ["good"], ["fine"]]  # the failed group's jobs retried alone
