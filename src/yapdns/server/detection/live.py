"""Live matching at ingest: the after-commit hook that matches every accepted observation, and the folding
thread that turns its matches into alerts off the request path.

``match_after_commit`` runs after the store committed a batch (never inside
the write transaction) and also for a replayed batch. It does only the cheap,
durable part in the request: match, then keep the batch's matches in the
application database (``services.log_matches``, one small insert, unique per
(entry, record, batch)) before the ingest answer is sent. A server that crashed
after the commit but before that insert never acknowledged the batch, so the
sender retries it and the replay is matched then; a replay whose matches were
kept already adds nothing. ``asn`` entries are matched where the address's AS
is known (``asnmatch.py``). A failure here is logged and counted, and never
fails the ingest answer.

``Folder`` folds the kept matches into alerts (``services.fold_pending``) every
``YAPDNS_MATCH_FOLD_INTERVAL`` seconds in a background thread of each server
process (``yapdns serve`` starts it in every worker process); the worker's
``alert-delivery`` job and ``yapdns detection jobs`` fold too, and
``yapdns import`` folds at its end, so kept matches are folded wherever one of
them runs, after any crash.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from django.db import connection

from yapdns import config
from yapdns.core.model import Observation
from yapdns.ingest import AfterCommit
from yapdns.server.detection import asnmatch, services
from yapdns.storage.base import BatchRef, Store

log = logging.getLogger(__name__)


class MatchStats:
    """Counters of live matching in this process (for tests and operators)."""

    batches = 0
    hits = 0
    failures = 0


def match_after_commit(observations: Sequence[Observation], ref: BatchRef) -> None:
    """Match one committed batch against the watchlist and keep its matches for folding."""
    try:
        matcher = services.live_matcher()
        hits = matcher.match(observations)
        if matcher.asns:
            hits += asnmatch.asn_hits(matcher, observations, asnmatch.live_resolver())
        MatchStats.batches += 1
        if hits:
            MatchStats.hits += len(hits)
            services.log_matches(hits, ref.sensor, ref.batch_id)
    except Exception:
        MatchStats.failures += 1
        log.exception("watchlist matching failed for a batch of %d observations", len(observations))


def ingest_hooks() -> tuple[AfterCommit, ...]:
    """The hooks the ingest API runs after each commit (none when ``YAPDNS_WATCHLIST_MATCHING`` is off)."""
    return (match_after_commit,) if config.get_bool("YAPDNS_WATCHLIST_MATCHING") else ()


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
