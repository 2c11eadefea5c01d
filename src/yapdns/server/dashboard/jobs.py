"""The dashboard's background jobs (scheduled in ``workers/schedule.py``)."""

from __future__ import annotations

from yapdns.server.dashboard import summaries
from yapdns.server.store import get_store
from yapdns.server.workers.jobs import job


@job(retries=1, backoff=60)
def refresh_top_names() -> None:
    """Rescan the store for the overview's top names, so no page view waits for the scan."""
    summaries.refresh_top_names(get_store())
