"""Chart data for the domain and IP pages, over the whole history of a name or an address.

* ``gantt_rows``: one bar per record, from its first to its last sighting
  (a record seen only in zone files: its zone-file window, labelled so);
* ``seen_tiles``: first and last seen in traffic, and the zone-file window;
* ``summary_tiles``: the same from a ``RecordSummary`` (the whole history);
* ``activity_from_days``: per time bucket, how many records were active
  (their first-to-last span overlaps the bucket) and how many were first
  seen in it. Passive DNS keeps first, last and a total count per record,
  not a count per day, so this is what "over time" can honestly show.

Both go to the page through ``json_script`` and are drawn by
``static/dashboard/js/charts.js``; labels are data, never HTML.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import reduce

from yapdns.core.model import Record
from yapdns.core.names import to_unicode
from yapdns.core.windows import Windows, combine
from yapdns.storage.base import RecordSummary

DAY = 86400
_UNITS = ((120, "day", DAY), (3 * 365, "week", 7 * DAY), (10**9, "month", 30 * DAY))
MAX_BUCKETS = 240


def gantt_rows(records: Sequence[Record], label: Callable[[Record], str]) -> list[dict[str, object]]:
    """Bars for the timeline, most recently seen first."""
    ordered = sorted(records, key=lambda r: (-r.time_last, r.time_first))
    return [
        {
            "label": label(r) + (" (zone files)" if r.zone_only else ""),  # its bar spans zone-file times
            "type": r.rrtype,
            "first": r.time_first,
            "last": r.time_last,
            "count": r.count,
        }
        for r in ordered
    ]


def seen_tiles(records: Sequence[Record]) -> dict[str, object]:
    """``first_seen``/``last_seen``: the traffic window of ``records``; ``zone_window``: their zone-file window."""
    both = reduce(combine, map(Windows.of, records)) if records else None
    traffic = both.traffic if both else None
    return {
        "first_seen": traffic[0] if traffic else None,
        "last_seen": traffic[1] if traffic else None,
        "zone_window": both.zone if both else None,
    }


def summary_tiles(summary: RecordSummary) -> dict[str, object]:
    """The header tiles of a page from its whole-history summary (``Store.summarize``)."""
    zone = None
    if summary.zone_time_first is not None and summary.zone_time_last is not None:
        zone = (summary.zone_time_first, summary.zone_time_last)
    return {"first_seen": summary.time_first, "last_seen": summary.time_last, "zone_window": zone}


def by_rdata(record: Record) -> str:
    """Timeline label on a domain page: ``A 192.0.2.1``."""
    return f"{record.rrtype} {record.rdata}"


def by_name(record: Record) -> str:
    """Timeline label on an IP page: the owner name (U-label)."""
    return to_unicode(record.rrname)


def activity(records: Sequence[Record]) -> dict[str, object]:
    """Active and newly seen records per bucket, from the records themselves (see ``activity_from_days``)."""
    first: dict[int, int] = defaultdict(int)
    last: dict[int, int] = defaultdict(int)
    for r in records:
        first[r.time_first - r.time_first % DAY] += 1
        last[r.time_last - r.time_last % DAY] += 1
    return activity_from_days(sorted(first.items()), sorted(last.items()))


Days = Sequence[tuple[int, int]]


def activity_from_days(first_days: Days, last_days: Days) -> dict[str, object]:
    """Active and newly seen records per bucket (day, week or 30 days, by the overall span), from how many records
    were first and last seen on each UTC day (``RecordSummary.first_days``/``last_days``): a record is active in
    every bucket from its first day's to its last day's, so the whole history needs no record rows."""
    if not first_days:
        return {"unit": "day", "buckets": [], "active": [], "new": []}
    start = first_days[0][0]
    end = max(last_days[-1][0], first_days[-1][0])
    days = (end - start) // DAY + 1
    unit, size = next((name, secs) for limit, name, secs in _UNITS if days <= limit)
    while (end - start) // size + 1 > MAX_BUCKETS:
        size *= 2
    origin = start - start % size
    count = (end - origin) // size + 1
    delta = [0] * (count + 1)
    new = [0] * count
    for day, n in first_days:
        delta[(day - origin) // size] += n
        new[(day - origin) // size] += n
    for day, n in last_days:
        delta[(day - origin) // size + 1] -= n
    active, running = [], 0
    for step in delta[:count]:
        running += step
        active.append(running)
    return {
        "unit": unit if size in (DAY, 7 * DAY, 30 * DAY) else f"{size // DAY} days",
        "buckets": [origin + i * size for i in range(count)],
        "active": active,
        "new": new,
    }
