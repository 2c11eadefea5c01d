"""``SqlReader``: every read of the ``Store`` contract, once, for both SQL backends.

A backend supplies ``dialect`` and ``_rows(text, params)`` (run one SELECT on
a reading connection); the statements come from ``storage/sql.py`` or are
written here with ``?`` placeholders, which ``_q`` turns into the dialect's.
Pages are fetched with one extra row, so ``limited`` is exact.
"""



from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from yapdns.core.model import Evidence, NegativeRecord, Provenance, QueryRecord, Record, RRsetRecord, SampleLink
from yapdns.core.rrtypes import rrtype_text
from yapdns.storage import rows
from yapdns.storage.base import IngestBucket, iterate_pages
from yapdns.storage.query import Page, RecordQuery
from yapdns.storage.rows import provenance_row
from yapdns.storage.sql import Dialect, Sql, grouped_select, record_select, rrset_select

T = TypeVar("T")
_COUNTERS = ("records", "rrsets", "negatives", "queries", "observations", "batches")


class SqlReader(ABC):
    """The read half of a SQL-backed ``Store``."""

    dialect: Dialect

    @abstractmethod
    def _rows(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one SELECT on a reading connection and return all its rows."""

    def _q(self, text: str) -> str:
        return text.replace("?", self.dialect.ph)

    def _page(self, build: Callable[[int], Sql], convert: Callable[[rows.Row], T], limit: int) -> Page[T]:
        sql = build(limit + 1)
        fetched = self._rows(sql.text, sql.params)
        more = len(fetched) > limit
        fetched = fetched[:limit]
        cursor = rows.cursor_of(fetched[-1], sql.order_width) if more and fetched else None
        return Page([convert(r) for r in fetched], cursor, more)

    def provs_for(self, sensor: str | None, evidence: Evidence | None) -> list[int] | None:
        """Provenance ids matching a sensor (and its sub-sensors ``sensor/...``) and/or evidence.

        ``None`` means no filter; a filter that matches nothing gives ``[-1]``.
        """
        if sensor is None and evidence is None:
            return None
        where: list[str] = []
        params: list[object] = []
        if sensor is not None:
            where.append("(sensor = ? OR substr(sensor, 1, ?) = ?)")
            params += [sensor, len(sensor) + 1, sensor + "/"]
        if evidence is not None:
            where.append("evidence = ?")
            params.append(Evidence(evidence).value)
        found = self._rows(self._q(f"SELECT id FROM prov WHERE {' AND '.join(where)}"), params)
        return [pid for (pid,) in found] or [-1]

    def records(self, query: RecordQuery) -> Page[Record]:
        provs = self.provs_for(query.sensor, query.evidence)
        return self._page(lambda n: record_select(self.dialect, query, provs, n), rows.record, query.limit)

    def iter_records(self, query: RecordQuery) -> Iterator[Record]:
        return iterate_pages(self.records, query)

    def rrsets(self, query: RecordQuery) -> Page[RRsetRecord]:
        return self._page(lambda n: rrset_select(self.dialect, query, n), rows.rrset, query.limit)

    def iter_rrsets(self, query: RecordQuery) -> Iterator[RRsetRecord]:
        return iterate_pages(self.rrsets, query)

    def negatives(self, query: RecordQuery) -> Page[NegativeRecord]:
        provs = self.provs_for(query.sensor, query.evidence)
        build = lambda n: grouped_select(self.dialect, "negative", query, provs, n)  # noqa: E731
        return self._page(build, rows.negative, query.limit)

    def queries(self, query: RecordQuery) -> Page[QueryRecord]:
        provs = self.provs_for(query.sensor, query.evidence)
        build = lambda n: grouped_select(self.dialect, "qname", query, provs, n)  # noqa: E731
        return self._page(build, rows.query, query.limit)

    def provenance(self, rrname: str, rrtype: str, rdata: str) -> list[Provenance]:
        key, params = self.dialect.record_key("rr", rrname, rrtype, rdata)
        found = self._rows(
            self._q(
                "SELECT p.sensor, p.evidence, p.source, s.time_first, s.time_last, s.count, s.zone_time_first, "
                "s.zone_time_last, s.zone_only FROM rr JOIN rr_seen s ON s.rr_id = rr.id JOIN prov p ON p.id = s.prov "
                f"WHERE {key} ORDER BY p.sensor, p.evidence, p.source"
            ),
            params,
        )
        return [provenance_row(r) for r in found]

    def samples(self, rrname: str, rrtype: str, rdata: str) -> list[SampleLink]:
        key, params = self.dialect.record_key("rr", rrname, rrtype, rdata)
        found = self._rows(
            self._q(
                "SELECT s.sha256, s.task_id, s.time_first, s.time_last, s.count FROM rr "
                f"JOIN rr_sample s ON s.rr_id = rr.id WHERE {key} ORDER BY s.time_first, s.sha256, s.task_id"
            ),
            params,
        )
        return [
            SampleLink(sha256=r[0], task_id=r[1] or None, time_first=r[2], time_last=r[3], count=r[4]) for r in found
        ]

    def sensors(self) -> list[str]:
        return [s for (s,) in self._rows("SELECT DISTINCT sensor FROM prov ORDER BY sensor")]

    def ingest_history(self, since: int) -> list[IngestBucket]:
        found = self._rows(
            self._q(
                "SELECT hour, sensor, observations, new_records FROM ingest_hourly "
                "WHERE hour >= ? ORDER BY hour, sensor"
            ),
            (since - since % 3600,),
        )
        return [IngestBucket(*r) for r in found]

    def _totals(self) -> tuple[dict[str, int], dict[str, int]]:
        """The running counters and the per-type record counts."""
        counters = {name: int(value) for name, value in self._rows("SELECT name, value FROM counter")}
        by_type = {
            rrtype_text(code): int(n)
            for code, n in self._rows("SELECT rrtype, records FROM type_count WHERE records > 0 ORDER BY records DESC")
        }
        return {k: counters.get(k, 0) for k in _COUNTERS}, by_type
