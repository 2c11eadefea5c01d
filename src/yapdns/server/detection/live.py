"""Live matching at ingest: the hook that matches every accepted observation, and the folding thread that
turns its matches into alerts off the request path.

``LiveMatching`` (the ingest API's hook, a ``StagedAfterCommit``) hands the
batch to this process's matcher thread before the store writes it, so the
matching runs while the request waits for its commit, not after it (never
inside the write transaction: the writer is another thread, and matching
reads nothing the write changes). The matches travel with the batch to the
store's writer (a ``Then``): once it committed a group (replayed batches
too), the writer thread does the cheap, durable part for all of the group's
batches in one statement, before it answers their requests: keep the matches
in the application database (``services.log_matches``, unique per (entry,
record, batch)); a write that fails keeps nothing. Why not in the request:
the writer commits the requests that are waiting as one group, and a request
still busy matching or keeping (each call into a database can wait for the
GIL while the writer folds the next group) when the next group starts misses
it, so groups got smaller and the writer slower (``docs/detection.md``, "Cost
on ingest"). A server that crashed after the commit but before that insert
never acknowledged the batch, so the sender retries it and the replay is
matched then; a replay whose matches were kept already adds nothing. ``asn``
entries are matched where the address's AS is known (``asnmatch.py``). A
failure here is logged and counted, and never fails the ingest answer.

``Folder`` folds the kept matches into alerts (``services.fold_pending``) every
``YAPDNS_MATCH_FOLD_INTERVAL`` seconds in a background thread of each server
process (``yapdns serve`` starts it in every worker process); the worker's
``alert-delivery`` job and ``yapdns detection jobs`` fold too, and
``yapdns import`` folds at its end, so kept matches are folded wherever one of
them runs, after any crash.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress

from django.db import DatabaseError, connection

from yapdns import config
from yapdns.core.model import Observation
from yapdns.ingest import AfterCommit
from yapdns.server.detection import asnmatch, services
from yapdns.server.detection.matching import Hit, WatchlistMatcher
from yapdns.storage.base import BatchRef, Store, Then, WriteOutcome

log = logging.getLogger(__name__)


class MatchStats:
    """Counters of live matching in this process (for tests and operators)."""

    batches = 0
    hits = 0
    failures = 0


def _match(matcher: WatchlistMatcher, observations: Sequence[Observation]) -> list[Hit]:
    hits = matcher.match(observations)
    if matcher.asns:
        hits += asnmatch.asn_hits(matcher, observations, asnmatch.live_resolver())
    return hits


def _failed(observations: Sequence[Observation]) -> None:
    MatchStats.failures += 1
    log.exception("watchlist matching failed for a batch of %d observations", len(observations))


Note = tuple[Future[list[Hit]], Sequence[Observation], BatchRef]  # what a write hands the store's writer


class LiveMatching:
    """The ingest hook: matches on this process's matcher thread while the batch is written; the store's writer
    keeps the matches of each committed group (``CommitHook``).

    One thread: matching holds the GIL anyway, and the matcher's caches then have a single user.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yapdns-matcher")

    def begin(self, observations: Sequence[Observation], ref: BatchRef) -> Callable[[], None] | Then:
        try:
            matcher = services.live_matcher()  # the request's thread: the watchlist is read from its database
            found = self._pool.submit(_match, matcher, observations)
        except Exception:
            _failed(observations)
            return lambda: None
        return Then(self, (found, observations, ref))

    def committed(self, notes: list[tuple[Note, WriteOutcome]]) -> None:
        """Keep the matches of a committed group's batches, in one statement (in the store's writer thread)."""
        batches = []
        for (found, observations, ref), _outcome in notes:
            try:
                hits = found.result()
            except Exception:
                _failed(observations)
                continue
            MatchStats.batches += 1
            MatchStats.hits += len(hits)
            if hits:
                batches.append((hits, ref.sensor, ref.batch_id))
        if batches:
            _keep(batches)

    def writer_done(self) -> None:
        """The store's writer thread stops: close its application database connection."""
        connection.close()


def _keep(batches: list[tuple[list[Hit], str, str]]) -> None:
    """Keep the batches' matches; once more on a new connection when the database failed (this long-lived thread
    gets none of the checks Django gives a request's connection: a restarted server or an idle timeout shows
    here first)."""
    for attempt in (1, 2):
        try:
            services.log_matches(batches)
            return
        except DatabaseError:
            with suppress(Exception):  # broken already
                connection.close()
            if attempt == 2:
                _keep_failed(batches)
        except Exception:
            _keep_failed(batches)
            return


def _keep_failed(batches: list[tuple[list[Hit], str, str]]) -> None:
    MatchStats.failures += len(batches)
    log.exception("keeping the watchlist matches of %d batches failed", len(batches))


_LIVE: dict[int, LiveMatching] = {}  # by process id: a forked worker never uses its parent's (threadless) pool
_LIVE_LOCK = threading.Lock()


def live_matching() -> LiveMatching:
    """This process's hook (and matcher thread, started at its first batch)."""
    with _LIVE_LOCK:
        pid = os.getpid()
        if pid not in _LIVE:
            _LIVE.clear()
            _LIVE[pid] = LiveMatching()
        return _LIVE[pid]


def ingest_hooks() -> tuple[AfterCommit, ...]:
    """The hooks the ingest API runs around each write (none when ``YAPDNS_WATCHLIST_MATCHING`` is off)."""
    return (live_matching(),) if config.get_bool("YAPDNS_WATCHLIST_MATCHING") else ()


class Folder:
    """A daemon thread folding kept matches into alerts every ``interval`` seconds, and once more on ``stop``."""

    def __init__(self, store: Callable[[], Store], interval: float) -> None:
        self.store = store
        self.interval = interval
        self.folded = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="yapdns-alert-folder", daemon=True)

    def start(self) -> Folder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self._fold()
            self._fold()
        finally:
            connection.close()  # this thread's own database connection

    def _fold(self) -> None:
        try:
            self.folded += services.fold_pending(self.store())
        except Exception:  # the rows stay: the next round, or another process, folds them
            log.exception("folding watchlist matches into alerts failed")


_FOLDER: list[Folder] = []


def start_folder() -> Folder | None:
    """Start this process's folding thread (``yapdns serve``'s workers), unless matching or the interval is off."""
    from yapdns.server.store import get_store

    interval = config.get_int("YAPDNS_MATCH_FOLD_INTERVAL")
    if _FOLDER or interval <= 0 or not config.get_bool("YAPDNS_WATCHLIST_MATCHING"):
        return _FOLDER[0] if _FOLDER else None
    _FOLDER.append(Folder(get_store, interval).start())
    return _FOLDER[0]
