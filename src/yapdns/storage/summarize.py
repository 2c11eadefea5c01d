"""``SummarizeReader``: whole-result summaries and sorts (``Store.summarize``, ``Store.ranked_records``), for both
SQL backends.

Both read the matching records through ``sql.record_source``: the query's key index, its filters and fences, and
at most ``scan_max + 1`` rows, so their cost is bounded at any store size; when more rows match, the answer says
``limited`` and covers the first ``scan_max + 1`` rows in the key's order. A summary is at most four statements over
that source (types and days in one pass; names, sightings and RRsets when the key can have several).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from yapdns.core.model import Evidence, Record
from yapdns.core.normalize import COUNT_CEILING
from yapdns.core.rrtypes import rrtype_text
from yapdns.storage import rows
from yapdns.storage.base import (
    SUMMARY_SCAN_MAX,
    NameSummary,
    RankKey,
    RecordSummary,
    SightingSummary,
    TypeSummary,
)
from yapdns.storage.query import Page, RecordQuery
from yapdns.storage.sql import Dialect, Sql, record_count, record_source, rrset_count

DAY = 86400
_RANK_COLUMNS: dict[str, str] = {"count": "t.n", "time_first": "t.tf", "time_last": "t.tl"}


def _count(value: Any) -> int:
    return min(int(value or 0), COUNT_CEILING)


class SummarizeReader(ABC):
    """Whole-result summaries and sorts over ``sql.record_source``."""

    dialect: Dialect

    @abstractmethod
    def _rows(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one SELECT on a reading connection and return all its rows."""

    @abstractmethod
    def provs_for(self, sensor: str | None, evidence: Evidence | None) -> list[int] | None:
        """Provenance ids matching a sensor and/or evidence filter (``SqlReader``)."""

    def _source(self, query: RecordQuery, scan_max: int) -> tuple[Sql, list[int] | None]:
        provs = self.provs_for(query.sensor, query.evidence)
        return record_source(self.dialect, query, provs, scan_max + 1), provs

    def _over(self, source: Sql, select: str, tail: str = "", params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        text = f"SELECT {select} FROM ({source.text}) AS t {tail}".replace("?", self.dialect.ph)
        return self._rows(text, (*source.params, *params))

    def summarize(
        self, query: RecordQuery, scan_max: int = SUMMARY_SCAN_MAX, top: int = 10, sightings: bool = True
    ) -> RecordSummary:
        source, provs = self._source(query, scan_max)
        wide = self.dialect.wide_sum
        cells = self._over(
            source,
            f"t.rrtype, t.zo, t.tf / {DAY}, t.tl / {DAY}, count(*), {wide('t.n')}, min(t.tf), max(t.tl), "
            "min(t.ztf), max(t.ztl)",
            f"GROUP BY t.rrtype, t.zo, t.tf / {DAY}, t.tl / {DAY}",
        )
        records = sum(int(c[4]) for c in cells)
        several = records > 0 and not (query.rrname is not None and query.rrname.kind == "exact")
        names, top_names = self._names(source, top) if several else (1 if records else 0, [])
        return RecordSummary(
            records=records,
            count=_count(sum(c[5] or 0 for c in cells)),
            names=names,
            rrsets=self._rrsets(query, scan_max) if query.rrname is not None else None,
            **_windows(cells),
            by_type=_types(cells),
            sightings=self._sightings(source, provs) if records and sightings else [],
            top_names=top_names,
            first_days=_days(cells, 2),
            last_days=_days(cells, 3),
            limited=records > scan_max,
        )

    def _names(self, source: Sql, top: int) -> tuple[int, list[NameSummary]]:
        """How many distinct names, and the ``top`` busiest (one pass: a window count over the groups)."""
        found = self._rows(
            (
                f"SELECT g.rrname, g.nr, g.nc, g.f, g.l, count(*) OVER () FROM (SELECT t.rrname, count(*) AS nr, "
                f"{self.dialect.wide_sum('t.n')} AS nc, min(t.tf) AS f, max(t.tl) AS l FROM ({source.text}) AS t "
                f"GROUP BY t.rrname) AS g ORDER BY g.nc DESC, g.rrname LIMIT {int(top)}"
            ).replace("?", self.dialect.ph),
            source.params,
        )
        total = int(found[0][5]) if found else 0
        return total, [NameSummary(r[0], int(r[1]), _count(r[2]), int(r[3]), int(r[4])) for r in found]

    def _sightings(self, source: Sql, provs: list[int] | None) -> list[SightingSummary]:
        only = f"AND s.prov IN ({self.dialect.marks(len(provs))})" if provs is not None else ""
        found = self._over(
            source,
            f"p.sensor, p.evidence, count(DISTINCT t.id), {self.dialect.wide_sum('s.count')}, min(s.time_first), "
            "max(s.time_last)",
            f"JOIN rr_seen s ON s.rr_id = t.id {only} JOIN prov p ON p.id = s.prov GROUP BY p.sensor, p.evidence "
            "ORDER BY 4 DESC, p.sensor, p.evidence",
            tuple(provs or ()),
        )
        return [SightingSummary(r[0], r[1], int(r[2]), _count(r[3]), int(r[4]), int(r[5])) for r in found]

    def _rrsets(self, query: RecordQuery, scan_max: int) -> int:
        assert query.rrname is not None
        sql = rrset_count(self.dialect, query.rrname, scan_max + 1)
        return int(self._rows(sql.text, sql.params)[0][0])

    def count_records(self, query: RecordQuery, cap: int) -> int:
        if query.sensor is None and query.evidence is None:
            sql = record_count(self.dialect, query, cap)
            return int(self._rows(sql.text, sql.params)[0][0])
        source, _ = self._source(query, cap - 1)
        return int(self._over(source, "count(*)")[0][0])

    def ranked_records(
        self, query: RecordQuery, key: RankKey, descending: bool = True, scan_max: int = SUMMARY_SCAN_MAX
    ) -> Page[Record]:
        source, _ = self._source(query, scan_max)
        direction = "DESC" if descending else "ASC"
        found = self._over(
            source,
            "t.rrname, t.rrtype, t.rdata, t.tf, t.tl, t.n, t.ttl_min, t.ttl_max, t.ztf, t.ztl, t.zo",
            f"ORDER BY {_RANK_COLUMNS[key]} {direction}, t.rrname, t.rrtype, t.rdata "
            f"LIMIT {int(query.limit) + 1} OFFSET {int(query.offset)}",
        )
        return Page([rows.record(r) for r in found[: query.limit]], None, len(found) > query.limit)


def _windows(cells: Sequence[Sequence[Any]]) -> dict[str, int | None]:
    traffic = [c for c in cells if not c[1]]
    zone_first = [int(c[8]) for c in cells if c[8] is not None]
    zone_last = [int(c[9]) for c in cells if c[9] is not None]
    return {
        "time_first": min(int(c[6]) for c in traffic) if traffic else None,
        "time_last": max(int(c[7]) for c in traffic) if traffic else None,
        "zone_time_first": min(zone_first) if zone_first else None,
        "zone_time_last": max(zone_last) if zone_last else None,
    }


def _types(cells: Sequence[Sequence[Any]]) -> list[TypeSummary]:
    acc: dict[int, list[int]] = {}
    for c in cells:
        row = acc.setdefault(int(c[0]), [0, 0, int(c[6]), int(c[7])])
        row[0] += int(c[4])
        row[1] += int(c[5] or 0)
        row[2], row[3] = min(row[2], int(c[6])), max(row[3], int(c[7]))
    ordered = sorted(acc.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return [TypeSummary(rrtype_text(code), n, _count(total), f, last) for code, (n, total, f, last) in ordered]


def _days(cells: Sequence[Sequence[Any]], column: int) -> list[tuple[int, int]]:
    per_day: dict[int, int] = defaultdict(int)
    for c in cells:
        per_day[int(c[column]) * DAY] += int(c[4])
    return sorted(per_day.items())
