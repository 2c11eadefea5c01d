"""The ingest API's matching hook: it matches while the store writes the batch, and keeps matches only after the
commit (a batch whose write fails keeps none; its retry keeps them once)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from django.db import OperationalError

from tests.server.detection.conftest import KEEPS
from tests.storage.conftest import Queued
from yapdns.core.batch import DecodedBatch
from yapdns.core.model import Observation
from yapdns.ingest import IngestService
from yapdns.server.detection import live, services
from yapdns.server.detection.indicators import IndicatorSpec
from yapdns.server.detection.matching import Hit, WatchlistMatcher
from yapdns.server.detection.models import Alert
from yapdns.storage.base import BatchRef, Store, StoreUnavailable, Then, WriteOutcome
from yapdns.storage.observe import set_writer_observer

pytestmark = KEEPS

SEEN = Observation(rrname="c2.evil.example", rrtype="A", rdata=("203.0.113.5",), time_first=1_700_000_000,
                   time_last=1_700_000_000, count=2)


class WatchedStore:
    """The real store, with what happened before each write recorded (and a write that can be made to fail)."""

    def __init__(self, store: Store, matched: threading.Event) -> None:
        self.store = store
        self.matched = matched
        self.matched_before_commit: list[bool] = []
        self.fail = False

    def write(
        self, observations: Sequence[Observation], batch: BatchRef | None = None, then: Sequence[Then] = ()
    ) -> WriteOutcome:
        # a write takes a while: long enough here for the matcher thread to finish (it never needs this long)
        self.matched_before_commit.append(self.matched.wait(timeout=10))
        if self.fail:
            raise StoreUnavailable("the store went away")
        return self.store.write(observations, batch, then)


@pytest.fixture
def matched(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once the watchlist matcher has matched a batch."""
    done = threading.Event()
    original = WatchlistMatcher.match

    def match(self: WatchlistMatcher, observations: Sequence[Observation]) -> list[Hit]:
        found = original(self, observations)
        done.set()
        return found

    monkeypatch.setattr(WatchlistMatcher, "match", match)
    return done


def test_the_batch_is_matched_while_the_store_writes_it(store: Store, matched: threading.Event) -> None:
    services.add_entries([IndicatorSpec("name", "*.evil.example")], None, "api")
    watched = WatchedStore(store, matched)
    IngestService(watched, live.ingest_hooks()).submit("s1", DecodedBatch("one", [SEEN], []))  # type: ignore[arg-type]
    assert watched.matched_before_commit == [True]  # not after the commit, when the request should answer
    assert services.pending_matches() == 1  # kept once the write committed


def test_a_batch_whose_write_fails_keeps_no_match_and_its_retry_keeps_it_once(
        store: Store, matched: threading.Event) -> None:
    services.add_entries([IndicatorSpec("name", "*.evil.example")], None, "api")
    watched = WatchedStore(store, matched)
    service = IngestService(watched, live.ingest_hooks())  # type: ignore[arg-type]
    watched.fail = True
    with pytest.raises(StoreUnavailable):
        service.submit("s1", DecodedBatch("one", [SEEN], []))
    assert services.pending_matches() == 0  # matched, but nothing kept: the batch is not stored
    watched.fail = False
    for _ in range(2):  # the sender's retry, then a replay of it
        service.submit("s1", DecodedBatch("one", [SEEN], []))
    services.fold_pending(store)
    assert [(a.count, a.matches) for a in Alert.objects.all()] == [(2, 1)]


class Held:
    """A commit hook that holds the store's writer after its write committed, until ``go``."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.go = threading.Event()

    def committed(self, notes: list[tuple[object, WriteOutcome]]) -> None:
        self.holding.set()
        self.go.wait(20)

    def writer_done(self) -> None: ...


def test_a_groups_matches_are_kept_by_the_stores_writer_in_one_statement_before_the_answers(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    services.add_entries([IndicatorSpec("name", "*.evil.example")], None, "api")
    kept: list[tuple[str, list[str], list[str]]] = []
    answered: list[str] = []
    original = services.log_matches

    def log_matches(batches: Sequence[tuple[Sequence[Hit], str, str]]) -> int:
        kept.append((threading.current_thread().name, [batch for _, _, batch in batches], list(answered)))
        return original(batches)

    monkeypatch.setattr(services, "log_matches", log_matches)
    service = IngestService(store, live.ingest_hooks())

    def submit(batch: str) -> None:
        service.submit("s1", DecodedBatch(batch, [SEEN], []))
        answered.append(batch)

    held, queued = Held(), Queued(2)
    holder = threading.Thread(target=store.write, args=([SEEN], BatchRef("s1", "first"), [Then(held, None)]))
    holder.start()
    assert held.holding.wait(20)  # the writer is busy: the two requests queue, and form the next group
    set_writer_observer(queued)
    try:
        requests = [threading.Thread(target=submit, args=(batch,)) for batch in ("one", "two")]
        for thread in requests:
            thread.start()
        assert queued.reached.wait(20)
    finally:
        set_writer_observer(queued.next)
        held.go.set()
    for thread in [holder, *requests]:
        thread.join(20)
    assert [(batches, seen) for _, batches, seen in kept] == [(["one", "two"], [])]  # once, before either answer
    assert "writer" in kept[0][0]  # in the store's writer thread, not a request's
    assert services.pending_matches() == 2


def test_a_keep_that_meets_a_dropped_database_connection_is_kept_on_a_new_one(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    services.add_entries([IndicatorSpec("name", "*.evil.example")], None, "api")
    original, calls = services.log_matches, []

    def log_matches(batches: Sequence[tuple[Sequence[Hit], str, str]]) -> int:
        calls.append(len(batches))
        if len(calls) == 1:  # as psycopg says when the server closed an idle connection
            raise OperationalError("server closed the connection unexpectedly")
        return original(batches)

    monkeypatch.setattr(services, "log_matches", log_matches)
    before = live.MatchStats.failures
    IngestService(store, live.ingest_hooks()).submit("s1", DecodedBatch("one", [SEEN], []))
    assert (calls, services.pending_matches(), live.MatchStats.failures) == ([1, 1], 1, before)
