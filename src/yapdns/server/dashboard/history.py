"""A name's or an address's whole history for its page: one ``Store.summarize`` and one ``Store.ranked_records``.

The header tiles, the "answers over time" chart and the type breakdown come from the summary (every record the
key matches, up to the store's scan bound, said ``limited`` when reached); the timeline draws the
``TIMELINE_BARS`` most recently seen records of the whole history, not the records table's current page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from yapdns.core.model import Record
from yapdns.server.dashboard import timeline
from yapdns.storage.base import RecordSummary, Store
from yapdns.storage.query import RecordQuery

TIMELINE_BARS = 200
HISTORY_SCAN = 10_000  # records a page header reads at most (then it says "at least"); see docs/performance.md


@dataclass
class History:
    """What a page shows about everything one key matched."""

    summary: RecordSummary
    recent: list[Record]  # the most recently seen records, for the timeline and for related names

    @property
    def types(self) -> list[str]:
        return sorted(t.rrtype for t in self.summary.by_type)

    def context(self, label: Callable[[Record], str]) -> dict[str, Any]:
        """Template context: ``summary``, tiles, ``types`` and the charts' data."""
        return {
            "summary": self.summary,
            "types": self.types,
            "timeline_bars": len(self.recent),
            **timeline.summary_tiles(self.summary),
            "chart": {
                "timeline": timeline.gantt_rows(self.recent, label),
                "activity": timeline.activity_from_days(self.summary.first_days, self.summary.last_days),
            },
        }


def history(store: Store, query: RecordQuery, top: int = 10) -> History:
    """Summarize ``query``'s whole result and fetch its most recently seen records."""
    whole = msgspec.structs.replace(query, limit=TIMELINE_BARS, offset=0, cursor=None)
    summary = store.summarize(whole, scan_max=HISTORY_SCAN, top=top, sightings=False)
    recent = store.ranked_records(whole, "time_last", scan_max=HISTORY_SCAN).rows if summary.records else []
    return History(summary, list(recent))
