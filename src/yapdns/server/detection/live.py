"""Live matching at ingest: the after-commit hook that matches every accepted observation.

``match_after_commit`` runs after the store committed a batch (never inside
the write transaction) and also for a replayed batch: a server that crashed
after the commit but before matching never acknowledged the batch, so the
sender retries it and the replay is matched then; alerts fold repeats, so
matching a batch twice raises no second alert. ``asn`` entries are matched
where the address's AS is known (``asnmatch.py``). A failure here is logged and
counted, and never fails or slows the ingest answer beyond the matching
itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from yapdns import config
from yapdns.core.model import Observation
from yapdns.ingest import AfterCommit
from yapdns.server.detection import asnmatch, services

log = logging.getLogger(__name__)


class MatchStats:
    """Counters of live matching in this process (for tests and operators)."""

    batches = 0
    hits = 0
    failures = 0


def match_after_commit(observations: Sequence[Observation]) -> None:
    """Match one committed batch against the watchlist and record alerts."""
    try:
        matcher = services.live_matcher()
        hits = matcher.match(observations)
        if matcher.asns:
            hits += asnmatch.asn_hits(matcher, observations, asnmatch.live_resolver())
        MatchStats.batches += 1
        if hits:
            MatchStats.hits += len(hits)
            services.record_hits(hits)
    except Exception:
        MatchStats.failures += 1
        log.exception("watchlist matching failed for a batch of %d observations", len(observations))


def ingest_hooks() -> tuple[AfterCommit, ...]:
    """The hooks the ingest API runs after each commit (none when ``YAPDNS_WATCHLIST_MATCHING`` is off)."""
    return (match_after_commit,) if config.get_bool("YAPDNS_WATCHLIST_MATCHING") else ()
