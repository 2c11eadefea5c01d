"""``SummaryReader``: the per-name and overview reads the dashboard needs, for both SQL backends.

A backend mixes this in and supplies ``dialect`` and ``_rows(text, params)``
(one SELECT on a reading connection), like ``SqlReader``. Every read here is
bounded by an index, except ``scan_top_names``, which is a full scan meant
for a background refresh whose result the caller keeps (never run it per
page view on a large store: 27 s over 10M records, docs/performance.md).

* ``name_provenance``: who saw a name, grouped by sensor, evidence and source
  (the name's per-provenance rollup rows, ``storage/rollup.py``);
* ``name_samples``: the sandbox samples linked to any record of a name;
* ``new_names``: names whose earliest record was first seen at or after
  ``since``, found among the latest first sightings (the ``rr_first`` index);
* ``scan_top_names``: the most observed names (sum of counts), full scan;
* ``discoveries``: newly observed names in the order they were stored: the
  records after a row id whose name has no record with a smaller row id
  (one probe of the ``rr`` key index each). Row ids grow in commit order
  with one writer (SQLite's writer thread); with several PostgreSQL writer
  processes they may commit out of order, so a backend stops these reads at
  ``_stable_end`` (``postgres/horizon.py``): no gap, no repeat;
* ``first_under``: whether a subtree had no record before a row id (new
  registered domains), a range of the ``rr`` key index;
* ``readdressed``: the names that got a new address or CNAME target among
  the records stored after a row id (the candidates a scoring job rescores).

The rows are the contract's types (``storage/base.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from yapdns.core.model import Provenance, SampleLink
from yapdns.core.names import reverse_name
from yapdns.storage.base import Discovery, DiscoveryPage, NameRollup, NameSummary
from yapdns.storage.sql import Dialect

NAME_ROWS_MAX = 100_000
REPOINT_CODES = frozenset({1, 28, 5})  # A, AAAA, CNAME: a name's new address or new CNAME target
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
        """Who saw any record of ``rrname`` (exact), summed per sensor, evidence and source (from the rollup)."""
        return self.name_rollup(rrname).seen_by

    @abstractmethod
    def name_rollup(self, name: str, below: bool = False, top: int = 10, seen_by: bool = True) -> NameRollup:
        """``RollupReader.name_rollup``."""

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

    def _stable_end(self, after: int) -> int | None:
        """The row id up to which no record can still appear (None: every committed row; one writer)."""
        return None

    def _stored_after(self, columns: str, after: int, scan: int) -> tuple[str, tuple[object, ...]]:
        """The next ``scan`` records after row id ``after``, up to the stable end: the SQL and its parameters."""
        end = self._stable_end(after)
        if end is None:
            return f"SELECT {columns} FROM rr WHERE id > ? ORDER BY id LIMIT ?", (after, scan)
        return f"SELECT {columns} FROM rr WHERE id > ? AND id <= ? ORDER BY id LIMIT ?", (after, end, scan)

    def discoveries(self, after: int, scan: int = 10_000, within: str | None = None) -> DiscoveryPage:
        """Names first stored among the next ``scan`` records after row id ``after``, oldest first.

        Two statements, whatever the page holds: the window's last row id, then the discovered names with their
        totals (one key probe for "no earlier record", one range of the key index for the totals, each in SQL).
        """
        window, params = self._stored_after("id, rrname, rrname_rev", after, scan)
        (last,) = self._rows(self._sq(f"SELECT max(id) FROM ({window}) AS w"), params)[0]
        if last is None:
            return DiscoveryPage([], after)
        under = ""
        bounds: tuple[str, ...] = ()
        if within:
            rev = reverse_name(within)
            under = " AND w.rrname_rev >= ? AND w.rrname_rev < ?"
            bounds = (rev, rev[:-1] + "/")
        found = self._rows(
            self._sq(
                f"SELECT w.id, w.rrname, min(a.time_first), max(a.time_last), count(*) FROM ({window}) AS w "
                f"JOIN rr a ON a.rrname_rev = w.rrname_rev WHERE w.id <= ?{under} AND NOT EXISTS "
                "(SELECT 1 FROM rr p WHERE p.rrname_rev = w.rrname_rev AND p.id < w.id) "
                "GROUP BY w.id, w.rrname ORDER BY w.id"
            ),
            (*params, last, *bounds),
        )
        rows = [Discovery(int(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in found]
        return DiscoveryPage(rows, int(last))

    def first_under(self, name: str, seq: int) -> bool:
        """No record of ``name`` or below it has a row id under ``seq`` (a range of the ``rr`` key index)."""
        rev = reverse_name(name)
        found = self._rows(
            self._sq("SELECT 1 FROM rr WHERE rrname_rev >= ? AND rrname_rev < ? AND id < ? LIMIT 1"),
            (rev, rev[:-1] + "/", seq),
        )
        return not found

    def readdressed(self, after: int, scan: int = 10_000) -> tuple[list[str], int]:
        """Names with a new A, AAAA or CNAME record among the next ``scan`` records after row id ``after``."""
        window, params = self._stored_after("id, rrname, rrtype", after, scan)
        found = self._rows(self._sq(f"SELECT id, rrname, rrtype FROM ({window}) AS w ORDER BY id"), params)
        names = list(dict.fromkeys(str(r[1]) for r in found if int(r[2]) in REPOINT_CODES))
        return names, int(found[-1][0]) if found else after

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
