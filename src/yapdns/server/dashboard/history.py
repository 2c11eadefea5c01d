"""A name's or an address's whole history for its page: the per-name rollup, one bounded ``Store.summarize`` and one
``Store.ranked_records``.

For an exact name or a ``*.zone`` search with no filter or fence, the header figures (records, RRsets,
observations, first and last seen, types, sensors, busiest names) come from the rollup the writer keeps
(``Store.name_rollup``): exact at any size, from a few rows. The "answers over time" chart needs each record's
first and last day, which no rollup keeps: it comes from the summary's scan (at most ``HISTORY_SCAN`` records,
said when reached, ``days_partial``), as do all figures of other keys (addresses, filtered searches). The
timeline draws the ``TIMELINE_BARS`` most recently seen records that scan reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from yapdns.core.model import Provenance, Record
from yapdns.server.dashboard import timeline
from yapdns.storage.base import NameRollup, RecordSummary, SightingSummary, Store
from yapdns.storage.query import RecordQuery

TIMELINE_BARS = 200
HISTORY_SCAN = 10_000  # records a page's chart reads at most (then it says so); see docs/performance.md


@dataclass
class History:
    """What a page shows about everything one key matched."""

    summary: RecordSummary
    recent: list[Record]  # the most recently seen records, for the timeline and for related names
    days_partial: bool = False  # the chart's days cover only the records the scan read
    seen_by: list[Provenance] | None = None  # per provenance, from the rollup (None: not read)

    @property
    def types(self) -> list[str]:
        return sorted(t.rrtype for t in self.summary.by_type)

    def context(self, label: Callable[[Record], str]) -> dict[str, Any]:
        """Template context: ``summary``, tiles, ``types`` and the charts' data."""
        return {
            "summary": self.summary,
            "types": self.types,
            "timeline_bars": len(self.recent),
            "days_partial": self.days_partial,
            "days_scanned": HISTORY_SCAN,
            **timeline.summary_tiles(self.summary),
            "chart": {
                "timeline": timeline.gantt_rows(self.recent, label),
                "activity": timeline.activity_from_days(self.summary.first_days, self.summary.last_days),
            },
        }


def rollup_target(query: RecordQuery) -> tuple[str, bool] | None:
    """``(name, below)`` when ``query`` is an exact name or a ``*.`` wildcard and nothing else (what the per-name
    rollup answers exactly); None otherwise."""
    match = query.rrname
    if match is None or match.kind == "prefix":
        return None
    bare = RecordQuery(rrname=match, limit=query.limit, offset=query.offset, cursor=query.cursor)
    return (match.name, match.kind == "suffix") if query == bare else None


def sightings_of(seen_by: list[Provenance]) -> list[SightingSummary]:
    """Per ``(sensor, evidence)`` from the rollup's per-provenance rows (it keeps no record counts: None)."""
    acc: dict[tuple[str, str], list[int]] = {}
    for p in seen_by:
        row = acc.setdefault((p.sensor_id, str(p.evidence)), [0, p.time_first, p.time_last])
        row[0] += p.count
        row[1], row[2] = min(row[1], p.time_first), max(row[2], p.time_last)
    ordered = sorted(acc.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return [SightingSummary(s, e, None, n, f, last) for (s, e), (n, f, last) in ordered]


def exact(summary: RecordSummary, rolled: NameRollup, sightings: bool = False) -> RecordSummary:
    """``summary`` (a bounded scan, kept for its day histograms) with the rollup's whole-history figures."""
    return msgspec.structs.replace(
        summary,
        records=rolled.records,
        count=rolled.count,
        names=rolled.names,
        rrsets=rolled.rrsets,
        time_first=rolled.time_first,
        time_last=rolled.time_last,
        zone_time_first=rolled.zone_time_first,
        zone_time_last=rolled.zone_time_last,
        by_type=rolled.by_type,
        top_names=rolled.top_names or summary.top_names,
        sightings=sightings_of(rolled.seen_by) if sightings else summary.sightings,
        limited=not rolled.exact,
    )


def rollup_summary(rolled: NameRollup) -> RecordSummary:
    """The rollup's figures as a ``RecordSummary`` without day histograms (for tables, not charts)."""
    empty = RecordSummary(0, 0, 0, None, None, None, None, None, [], [], [], [], [], False)
    return exact(empty, rolled)


def summarized(
    store: Store, query: RecordQuery, scan_max: int, top: int, sightings: bool
) -> tuple[RecordSummary, bool, NameRollup | None]:
    """The whole result of ``query`` summarized: ``(summary, days_partial, rollup)``; exact from the rollup when
    the query is one it answers, else the bounded scan (``limited`` when reached)."""
    target = rollup_target(query)
    if target is None:
        summary = store.summarize(query, scan_max=scan_max, top=top, sightings=sightings)
        return summary, summary.limited, None
    name, below = target
    rolled = store.name_rollup(name, below=below, top=top, seen_by=sightings or not below)
    days = store.summarize(query, scan_max=min(scan_max, HISTORY_SCAN), top=0, sightings=False)
    return exact(days, rolled, sightings), days.limited, rolled


def history(store: Store, query: RecordQuery, top: int = 10) -> History:
    """Summarize ``query``'s whole result and fetch its most recently seen records."""
    whole = msgspec.structs.replace(query, limit=TIMELINE_BARS, offset=0, cursor=None)
    summary, partial, rolled = summarized(store, whole, HISTORY_SCAN, top, sightings=False)
    recent = store.ranked_records(whole, "time_last", scan_max=HISTORY_SCAN).rows if summary.records else []
    return History(summary, list(recent), partial, rolled.seen_by if rolled else None)
