"""The periodic jobs: one table that every feature adds its scheduled work to.

To schedule a job, write it with ``@job`` (``workers/jobs.py``) in your own
module and add one ``Periodic`` line here: a unique name, the task's dotted
path and its period in seconds. The worker imports the task only when it is
due, so this table imports nothing. Each due run is enqueued by exactly one
worker (``supervisor.py`` claims it), and not at all while the previous run of
the same job is still queued or running.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    """A job run every ``every`` seconds, first when a worker starts and finds it due."""

    name: str
    task: str
    every: int


PERIODIC: tuple[Periodic, ...] = (
    Periodic("prune-job-results", "yapdns.server.workers.housekeeping.prune_job_results", every=3600),
    Periodic("top-names", "yapdns.server.dashboard.jobs.refresh_top_names", every=600),
    Periodic("enrich-addresses", "yapdns.server.enrichment.jobs.enrich_addresses", every=30),
    Periodic("retention", "yapdns.server.workers.retention.apply_retention", every=3600),
    Periodic("upstream-on-alerts", "yapdns.server.enrichment.onalert.ask_upstream_on_alerts", every=60),
    Periodic("detection-watch", "yapdns.server.detection.jobs.watch_round", every=60),
    Periodic("alert-delivery", "yapdns.server.detection.jobs.deliver_alerts", every=10),
)
