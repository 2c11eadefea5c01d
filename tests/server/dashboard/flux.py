"""A name with more records than one page holds, and a zone apex without records of its own: the cases where a
page built from its first page of records, or from the apex's own records, misdescribed the name."""

from __future__ import annotations

from yapdns.core.model import Observation

DAY = 86400
FLUX = "flux.example"
ZONE = "zone5.test"
FLUX_RECORDS = 260


def flux_observations(now: int) -> list[Observation]:
    """260 A records of one name, one per address; the addresses text-sorted last (198.18.1.99, 198.18.2.x) are the
    most recent, so the first page in rdata order (200 rows) misses the latest sightings and the largest count."""
    start = now - 300 * DAY
    found = []
    for i in range(FLUX_RECORDS):
        rdata = f"198.18.1.{i}" if i < 256 else f"198.18.2.{i - 256}"
        first = start + i * DAY
        found.append(Observation(rrname=FLUX, rrtype="A", rdata=(rdata,), time_first=first, time_last=first + 3600,
                                 count=10 if i < FLUX_RECORDS - 1 else 5000))
    return found


def zone_observations(now: int) -> list[Observation]:
    """Names under ``zone5.test``, none on the apex itself; ``busy.zone5.test`` is the busiest."""
    found = [Observation(rrname=f"h{i}.zone5.test", rrtype="A", rdata=(f"198.18.5.{i}",), time_first=now - 30 * DAY,
                         time_last=now - DAY, count=2) for i in range(40)]
    found.append(Observation(rrname="busy.zone5.test", rrtype="A", rdata=("198.18.5.200",),
                             time_first=now - 60 * DAY, time_last=now - 3600, count=900))
    return found
