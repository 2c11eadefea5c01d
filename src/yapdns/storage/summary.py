"""``SummaryReader``: the per-name and overview reads the dashboard needs, for both SQL backends.

A backend mixes this in and supplies ``dialect`` and ``_rows(text, params)``
(one SELECT on a reading connection), like ``SqlReader``. Every read here is
bounded by an index, except ``scan_top_names``, which is a full scan meant
for a background refresh whose result the caller keeps (never run it per
page view on a large store: 27 s over 10M records, docs/performance.md).

* ``name_provenance``: who saw a name, grouped by sensor, evidence and source
  (walks the name's rows of the ``rr`` key index, at most ``NAME_ROWS_MAX``);
* ``name_samples``: the sandbox samples linked to any record of a name;
* ``new_names``: names whose earliest record was first seen at or after
  ``since``, found among the latest first sightings (the ``rr_first`` index);
* ``scan_top_names``: the most observed names (sum of counts), full scan.

The rows are the contract's types (``storage/base.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from yapdns.core.model import Provenance, SampleLink
from yapdns.core.names import reverse_name
from yapdns.storage.base import NameSummary
from yapdns.storage.rows import provenance_row
from yapdns.storage.sql import Dialect, windows_of_rows

NAME_ROWS_MAX = 100_000
NEW_NAME_CANDIDATES = 20




class SummaryReader(ABC):
    """Reads for the dashboard's name, sample and overview panels."""

    dialect: Dialect

    @abstractmethod
    def _rows(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one SELECT on a reading connection and return all its rows."""

    def _sq(self, text: str) -> str:
        return text.replace("?", self.dialect.ph)

    @property
    def _name_totals(self) -> str:
        return f"rrname, count(*), {self.dialect.count_sum('count')}, min(time_first), max(time_last)"

    def name_provenance(self, rrname: str) -> list[Provenance]:
        """Who saw any record of ``rrname`` (exact), summed per sensor, evidence and source."""
        found = self._rows(
            self._sq(
                f"SELECT p.sensor, p.evidence, p.source, {windows_of_rows(self.dialect.count_sum('s.count'))} "
                "FROM (SELECT id FROM rr WHERE rrname_rev = ? LIMIT ?) AS r JOIN rr_seen s ON s.rr_id = r.id "
                "JOIN prov p ON p.id = s.prov GROUP BY p.sensor, p.evidence, p.source "
                "ORDER BY p.sensor, p.evidence, p.source"
            ),
            (reverse_name(rrname), NAME_ROWS_MAX),
        )
        return [provenance_row(r) for r in found]

    def name_samples(self, rrname: str, limit: int = 100) -> list[SampleLink]:
        """Samples linked to any record, negative answer or bare query of ``rrname`` (exact), most recent first."""
        rev = reverse_name(rrname)
        found = self._rows(
            self._sq(
                f"SELECT sha256, task_id, min(tf), max(tl), {self.dialect.count_sum('n')} FROM ("
                "SELECT s.sha256, s.task_id, s.time_first AS tf, s.time_last AS tl, s.count AS n "
                "FROM (SELECT id FROM rr WHERE rrname_rev = ? LIMIT ?) AS r JOIN rr_sample s ON s.rr_id = r.id "
                "UNION ALL SELECT sha256, task_id, time_first, time_last, count FROM name_sample WHERE rrname_rev = ?"
                ") AS links GROUP BY sha256, task_id ORDER BY max(tl) DESC, sha256, task_id LIMIT ?"
            ),
            (rev, NAME_ROWS_MAX, rev, limit),
        )
        return [
            SampleLink(sha256=r[0], task_id=r[1] or None, time_first=int(r[2]), time_last=int(r[3]), count=int(r[4]))
            for r in found
        ]

    def new_names(self, since: int, limit: int = 50) -> list[NameSummary]:
        """Names first seen at or after ``since``, newest first.

        Candidates are the names of the latest ``limit * NEW_NAME_CANDIDATES``
        first sightings; a candidate with an older record is not new.
        """
        found = self._rows(
            self._sq(
                f"SELECT {self._name_totals} FROM rr WHERE rrname_rev IN (SELECT c.rrname_rev FROM "
                "(SELECT rrname_rev FROM rr WHERE time_first >= ? ORDER BY time_first DESC LIMIT ?) AS c) "
                "GROUP BY rrname_rev, rrname HAVING min(time_first) >= ? ORDER BY min(time_first) DESC, rrname LIMIT ?"
            ),
            (since, limit * NEW_NAME_CANDIDATES, since, limit),
        )
        return [_summary(r) for r in found]

    def scan_top_names(self, limit: int = 100) -> list[NameSummary]:
        """The ``limit`` most observed names (a full scan: run it in the background).

        Grouping by ``rrname`` alone (it is one-to-one with ``rrname_rev``) walks
        the ``rr_fwd`` index in order and needs no temporary B-tree to group.
        """
        found = self._rows(
            self._sq(
                f"SELECT {self._name_totals} FROM rr GROUP BY rrname ORDER BY 3 DESC, rrname LIMIT ?"
            ),
            (limit,),
        )
        return [_summary(r) for r in found]


def _summary(row: Sequence[Any]) -> NameSummary:
    return NameSummary(row[0], int(row[1]), int(row[2]), int(row[3]), int(row[4]))
