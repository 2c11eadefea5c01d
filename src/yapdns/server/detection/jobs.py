"""The detection app's background jobs, as plain functions with one entry point each.

``run_jobs(store)`` runs one round: the retro-hunt of entries not hunted
yet (``services.hunt_pending``) and the delivery of due alerts
(``delivery.deliver_pending``). ``yapdns detection jobs`` runs rounds in a
loop (or once); a worker process can call ``run_jobs`` on its own schedule.
Run one such loop per deployment: two loops could deliver one alert twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from yapdns.server.detection import delivery, services
from yapdns.storage.base import Store


@dataclass(frozen=True)
class JobReport:
    """What one round did."""

    hunted: int
    sent: int
    failed: int


def run_jobs(store: Store) -> JobReport:
    """One round of retro-hunts and alert deliveries."""
    hunted = services.hunt_pending(store)
    sent, failed = delivery.deliver_pending()
    return JobReport(hunted, sent, failed)
