"""Commit hooks (``Store.write``'s ``then``) on every backend: the writer runs each hook once per committed
group, with every write's note, in its own thread, after the commit and before the writes return; a write that
fails runs none, a hook that fails answers the writes all the same."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.storage.builders import obs
from tests.storage.conftest import Queued
from yapdns.storage.base import BatchRef, Store, Then, WriteOutcome
from yapdns.storage.query import NameMatch, RecordQuery

WAIT = 20.0


class Recorder:
    """A ``CommitHook`` recording its calls (and what the test saw at each), optionally held at its first."""

    def __init__(self, store: Store, hold: threading.Event | None = None) -> None:
        self.store = store
        self.hold = hold
        self.called = threading.Event()
        self.calls: list[tuple[str, list[Any], list[bool]]] = []
        self.answered: list[str] = []  # notes of the writes that returned
        self.stopped = 0

    def committed(self, notes: list[tuple[Any, WriteOutcome]]) -> None:
        stored = [bool(self.store.records(RecordQuery(rrname=NameMatch.parse(note))).rows) for note, _ in notes]
        self.calls.append((threading.current_thread().name, [note for note, _ in notes], stored))
        self.called.set()
        if self.hold is not None:
            self.hold.wait(WAIT)
            self.hold = None

    def writer_done(self) -> None:
        self.stopped += 1

    def write(self, name: str, then: bool = True) -> threading.Thread:
        """Write one observation of ``name`` (noted ``name``) from a new thread."""

        def run() -> None:
            self.store.write([obs(name, "A", "192.0.2.1")], BatchRef("s1", name), [Then(self, name)] if then else [])
            self.answered.append(name)

        thread = threading.Thread(target=run)
        thread.start()
        return thread


def test_a_groups_writes_run_the_hook_once_after_their_commit_and_before_they_return(
        store: Store, queued: Queued) -> None:
    hook = Recorder(store, hold=threading.Event())
    first = hook.write("first.example")
    assert hook.called.wait(WAIT)  # the writer is in the hook of the first write's group: the others queue
    assert hook.answered == []  # committed, not answered yet
    later = [hook.write("a.example"), hook.write("b.example"), hook.write("c.example", then=False)]
    assert queued.reached.wait(WAIT)
    assert hook.hold is not None
    hook.hold.set()
    for thread in [first, *later]:
        thread.join(WAIT)
    assert sorted(hook.answered) == ["a.example", "b.example", "c.example", "first.example"]
    assert [notes for _, notes, _ in hook.calls] == [["first.example"], ["a.example", "b.example"]]
    assert all(stored == [True] * len(stored) for _, _, stored in hook.calls)  # each hook saw its group stored
    assert all("writer" in thread for thread, _, _ in hook.calls)  # in the store's writer thread


def test_a_replay_runs_the_hook_too_and_the_writer_tells_the_hook_when_it_stops(store: Store) -> None:
    hook = Recorder(store)
    for _ in range(2):
        hook.write("again.example").join(WAIT)
    assert [notes for _, notes, _ in hook.calls] == [["again.example"]] * 2
    store.close()
    assert hook.stopped == 1


class Failing(Recorder):
    def __init__(self, store: Store, error: BaseException) -> None:
        super().__init__(store)
        self.error = error

    def committed(self, notes: list[tuple[Any, WriteOutcome]]) -> None:
        super().committed(notes)
        raise self.error


class Stopping(BaseException):
    """The process stops inside the hook (as a kill would)."""


def test_a_hook_that_fails_leaves_the_write_answered_and_one_that_stops_leaves_it_unanswered(store: Store) -> None:
    ref = BatchRef("s1", "one")
    assert not store.write([obs("one.example", "A", "192.0.2.1")], ref, [Then(Failing(store, RuntimeError()), "x")]).replayed
    with pytest.raises(Stopping):  # stored, but never acknowledged: the sender retries it
        store.write([obs("two.example", "A", "192.0.2.1")], BatchRef("s1", "two"), [Then(Failing(store, Stopping()), "y")])
    assert store.write([obs("two.example", "A", "192.0.2.1")], BatchRef("s1", "two")).replayed  # the retry
    assert store.records(RecordQuery(rrname=NameMatch.parse("two.example"))).rows[0].count == 1
