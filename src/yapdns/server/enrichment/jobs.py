"""The enrichment job (scheduled in ``workers/schedule.py``): new addresses, and all of them after new data; the
context each step looks up is matched against ``asn`` watchlist entries (``detection.asnmatch.match_context``)."""

from __future__ import annotations

import threading
import time

from yapdns.enrich.dataset import IpDataset
from yapdns.enrich.enricher import GeoIpEnricher, configured_datasets
from yapdns.server.detection.asnmatch import match_context
from yapdns.server.enrichment.models import EnrichmentCursor
from yapdns.server.store import get_store
from yapdns.server.workers.jobs import job

TIME_BUDGET = 50.0  # seconds one run may take, so runs do not pile up behind a big backlog
_enricher: GeoIpEnricher | None = None
_lock = threading.Lock()


def enricher() -> GeoIpEnricher:
    """The process's datasets, loaded on first use (the built-in data takes a second or two)."""
    global _enricher  # noqa: PLW0603  (one set of datasets per worker process)
    with _lock:
        if _enricher is None:
            _enricher = GeoIpEnricher(configured_datasets())
        return _enricher


@job(retries=3, backoff=30)
def enrich_addresses() -> int:
    """Enrich what each dataset has not seen yet, within ``TIME_BUDGET``; return the addresses looked up."""
    deadline = time.monotonic() + TIME_BUDGET
    the_enricher, total = enricher(), 0
    for dataset in the_enricher.datasets:
        total += _run_dataset(the_enricher, dataset, deadline)
    return total


def _run_dataset(the_enricher: GeoIpEnricher, dataset: IpDataset, deadline: float) -> int:
    info = dataset.info()
    cursor, _ = EnrichmentCursor.objects.get_or_create(
        dataset=info.identity,
        defaults={"source": info.source, "data_date": info.data_date, "origin": info.origin[:500],
                  "licence": info.licence[:500]},
    )
    done = 0
    while time.monotonic() < deadline:
        step = the_enricher.enrich_step(get_store(), dataset, cursor.cursor or None)
        if step.addresses == 0:
            break
        match_context(get_store(), step.rows)  # before the cursor moves: a failed match is redone with the step
        cursor.cursor, cursor.addresses, cursor.kept = step.next_cursor or "", cursor.addresses + step.addresses, \
            cursor.kept + step.kept
        cursor.save(update_fields=["cursor", "addresses", "kept", "updated_at"])
        done += step.addresses
    return done
