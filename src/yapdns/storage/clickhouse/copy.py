"""Copy a SQL record store (SQLite or PostgreSQL) into a ClickHouse store: ``yapdns store copy``.

The source's tables are read in chunks of ``size`` rows by id (``rr`` with its per-provenance ``rr_seen`` and
sample links, then ``rrset``, ``negative``, ``qname``), then by key (``name_sample``, the applied batch ids,
the hourly ingest counters); each chunk is folded into the rows the ClickHouse writer appends
(``writer.ClickHouseApplier.load``) and applied **once** under a batch id of its own: sensor ``COPY_SENSOR``,
id ``<table>:<size>:<n>``. A rerun with the same ``size`` names the same chunks, skips those already applied
and applies the rest, so a copy stopped at any point (Ctrl-C, a crash, a server restart) is finished by
running it again, never doubled. The address context history follows (``ip_context``: ``keep`` drops rows
the target already has). Records are numbered for storage order in the source's id order.

Copy from a quiesced source (ingest stopped, or a backup): a chunk applied before the source changed is not
copied again. The source's applied batch ids become the target's, so an agent replaying an old batch to the
new store is still answered "replayed"; the hourly counters keep their observations, not their new-record
counts. ``verify`` compares what both stores hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import msgspec

from yapdns.storage.aggregate import FoldedBatch, ProvKey
from yapdns.storage.base import BatchRef, StoreStats
from yapdns.storage.clickhouse.schema import NONE_MAX, NONE_MIN, Kind
from yapdns.storage.clickhouse.writer import Row, prov_id
from yapdns.storage.context import IpContextRow

COPY_SENSOR = "yapdns-copy"
DEFAULT_SIZE = 20_000


class SqlSource(Protocol):
    """What a SQL store offers to read its own tables (``SqliteStore``, ``PostgresStore``)."""

    name: str

    def _rows(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]: ...

    def _p(self, text: str) -> str: ...

    def stats(self) -> StoreStats: ...


class Target(Protocol):
    """The ClickHouse store's side of a copy."""

    def load(self, folded: FoldedBatch, provs: dict[ProvKey, int], ref: BatchRef, commit_rows: list[Row]) -> bool: ...

    def add_ip_context(self, rows: Sequence[IpContextRow]) -> int: ...

    def record_totals(self) -> tuple[int, int, int, int]: ...

    def stats(self) -> StoreStats: ...


class Chunk(msgspec.Struct, frozen=True):
    """One unit of the copy: a table, and the id range or page it covers."""

    table: str
    number: int
    lo: int  # first id (id tables) or row offset (key tables)
    hi: int  # one past the last


class CopyReport(msgspec.Struct):
    """What a copy did: chunks applied now, chunks found applied before, context rows kept."""

    applied: int = 0
    skipped: int = 0
    context_rows: int = 0


_ID_TABLES = ("rr", "rrset", "negative", "qname")
_KEY_TABLES = {  # table: its key order (deterministic pages of a quiesced source)
    "name_sample": "rrname_rev, rrtype, rcode, sha256, task_id",
    "batch": "sensor, batch_id",
    "ingest_hourly": "hour, sensor",
}


def plan(source: SqlSource, size: int) -> list[Chunk]:
    """Every chunk of the copy, in order."""
    chunks: list[Chunk] = []
    for table in _ID_TABLES:
        (top,) = source._rows(f"SELECT coalesce(max(id), 0) FROM {table}")[0]
        chunks += [Chunk(table, n, n * size + 1, (n + 1) * size + 1) for n in range(-(-int(top) // size))]
    for table in _KEY_TABLES:
        (total,) = source._rows(f"SELECT count(*) FROM {table}")[0]
        chunks += [Chunk(table, n, n * size, (n + 1) * size) for n in range(-(-int(total) // size))]
    return chunks


def copy(source: SqlSource, target: Target, size: int = DEFAULT_SIZE,
         progress: Callable[[Chunk], None] | None = None) -> CopyReport:  # fmt: skip
    """Apply every chunk not applied before, then the address context; ``progress`` hears of each chunk."""
    report = CopyReport()
    reader = _Reader(source)
    for chunk in plan(source, size):
        folded, provs, commit_rows = reader.fold(chunk)
        ref = BatchRef(COPY_SENSOR, f"{chunk.table}:{size}:{chunk.number}", accepted=chunk.hi - chunk.lo)
        if target.load(folded, provs, ref, commit_rows):
            report.applied += 1
        else:
            report.skipped += 1
        if progress is not None:
            progress(chunk)
    for rows in reader.context(size):
        report.context_rows += target.add_ip_context(rows)
    return report


class Verdict(msgspec.Struct, frozen=True):
    """Both stores' figures, and whether they agree."""

    source: dict[str, Any]
    target: dict[str, Any]

    @property
    def same(self) -> bool:
        return self.source == self.target


def verify(source: SqlSource, target: Target) -> Verdict:
    """Records (count, summed count, first and last sighting), RRsets, negatives, bare queries and records per
    type, on both sides."""
    (totals,) = source._rows("SELECT count(*), coalesce(sum(count), 0), min(time_first), max(time_last) FROM rr")
    return Verdict(_figures(source.stats(), totals), _figures(target.stats(), target.record_totals()))


def _figures(stats: StoreStats, totals: Sequence[Any]) -> dict[str, Any]:
    records, count, first, last = (int(v) if v is not None else None for v in totals)
    return {
        "records": stats.records, "rrsets": stats.rrsets, "negatives": stats.negatives, "queries": stats.queries,
        "records_by_type": dict(sorted(stats.records_by_type.items())), "record_rows": records,
        "count_sum": count, "time_first": first if records else None, "time_last": last if records else None,
    }  # fmt: skip


class _Reader:
    """Reads chunks of the source and folds them as the ClickHouse writer keys rows."""

    def __init__(self, source: SqlSource) -> None:
        self._src = source
        found = source._rows("SELECT id, sensor, evidence, source FROM prov")
        self._provs: dict[int, ProvKey] = {int(i): (str(s), str(e), str(src)) for i, s, e, src in found}

    def _q(self, text: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        return self._src._rows(self._src._p(text), params)

    def fold(self, chunk: Chunk) -> tuple[FoldedBatch, dict[ProvKey, int], list[Row]]:
        out = FoldedBatch(0)
        commit_rows: list[Row] = []
        used: set[int] = set()
        span = (chunk.lo, chunk.hi)
        if chunk.table == "rr":
            self._rr(out, span, used)
        elif chunk.table == "rrset":
            for name, code, bailiwick, rdata, *st in self._q(
                "SELECT rrname, rrtype, bailiwick, rdata, time_first, time_last, count, ttl_min, ttl_max, "
                "zone_time_first, zone_time_last, zone_only FROM rrset WHERE id >= ? AND id < ? ORDER BY id", span
            ):
                out.rrset[(name, int(code), bailiwick, rdata)] = _stats(st)
        elif chunk.table in ("negative", "qname"):
            self._plain(out, chunk.table, span, used)
        else:
            commit_rows = self._keyed(out, chunk)
        provs = {self._provs[i]: prov_id(self._provs[i]) for i in used}
        return out, provs, commit_rows

    def _rr(self, out: FoldedBatch, span: tuple[int, int], used: set[int]) -> None:
        for name, code, rdata, tmin, tmax, prov, *st in self._q(
            "SELECT r.rrname, r.rrtype, r.rdata, r.ttl_min, r.ttl_max, s.prov, s.time_first, s.time_last, s.count, "
            "s.zone_time_first, s.zone_time_last, s.zone_only FROM rr r JOIN rr_seen s ON s.rr_id = r.id "
            "WHERE r.id >= ? AND r.id < ? ORDER BY r.id, s.prov", span
        ):
            used.add(int(prov))
            out.rr[(name, int(code), rdata, prov_id(self._provs[int(prov)]))] = _stats([*st[:3], tmin, tmax, *st[3:]])
        for name, code, rdata, sha, task, *st in self._q(
            "SELECT r.rrname, r.rrtype, r.rdata, x.sha256, x.task_id, x.time_first, x.time_last, x.count "
            "FROM rr_sample x JOIN rr r ON r.id = x.rr_id WHERE x.rr_id >= ? AND x.rr_id < ?", span
        ):
            out.sample[(name, int(code), rdata, sha, task)] = [int(v) for v in st]

    def _plain(self, out: FoldedBatch, table: str, span: tuple[int, int], used: set[int]) -> None:
        rcode = "rcode" if table == "negative" else "''"
        for name, code, rc, prov, *st in self._q(
            f"SELECT rrname, rrtype, {rcode}, prov, time_first, time_last, count FROM {table} "
            "WHERE id >= ? AND id < ? ORDER BY id", span
        ):
            used.add(int(prov))
            pid = prov_id(self._provs[int(prov)])
            if table == "negative":
                out.negative[(name, int(code), rc, pid)] = [int(v) for v in st]
            else:
                out.query[(name, int(code), pid)] = [int(v) for v in st]

    def _keyed(self, out: FoldedBatch, chunk: Chunk) -> list[Row]:
        page = (chunk.hi - chunk.lo, chunk.lo)
        order = _KEY_TABLES[chunk.table]
        if chunk.table == "name_sample":
            for name, code, rcode, sha, task, *st in self._q(
                "SELECT rrname, rrtype, rcode, sha256, task_id, time_first, time_last, count FROM name_sample "
                f"ORDER BY {order} LIMIT ? OFFSET ?", page
            ):
                out.name_sample[(name, int(code), rcode, sha, task)] = [int(v) for v in st]
            return []
        if chunk.table == "batch":
            found = self._q(f"SELECT sensor, batch_id, applied_at, accepted, rejected FROM batch ORDER BY {order} "
                            "LIMIT ? OFFSET ?", page)  # fmt: skip
            return [((Kind.BATCH, s, 0, b, "", 0), (int(at), NONE_MAX, 0, 1, int(a), int(r), NONE_MIN, NONE_MAX,
                                                     int(at))) for s, b, at, a, r in found]  # fmt: skip
        found = self._q(f"SELECT hour, sensor, observations FROM ingest_hourly ORDER BY {order} LIMIT ? OFFSET ?", page)
        return [((Kind.HOUR, s, 0, str(int(h)), "", int(h)), _hour(int(h), int(n))) for h, s, n in found]

    def context(self, size: int) -> Iterator[list[IpContextRow]]:
        from yapdns.core.rdata import ip_from_key

        offset = 0
        while True:
            found = self._q(
                "SELECT ip, source, data_date, asn, as_name, prefix, country, recorded_at FROM ip_context "
                "ORDER BY ip, source, data_date LIMIT ? OFFSET ?", (size, offset)
            )
            if not found:
                return
            yield [IpContextRow(ip=ip_from_key(bytes(ip)), source=s, data_date=int(d), asn=asn, as_name=n,
                                prefix=p, country=c, recorded_at=int(at)) for ip, s, d, asn, n, p, c, at in found]
            offset += size


def _stats(values: Sequence[Any]) -> list[Any]:
    """``[tf, tl, n, ttl_min, ttl_max, ztf, ztl, zone_only]`` as the fold keeps them."""
    tf, tl, n, tmin, tmax, ztf, ztl, zone_only = values
    return [int(tf), int(tl), int(n), tmin, tmax, ztf, ztl, bool(zone_only)]


def _hour(hour: int, observations: int) -> tuple[int, ...]:
    from yapdns.storage.clickhouse.schema import LO_BITS

    return (hour, NONE_MAX, observations >> LO_BITS, observations & ((1 << LO_BITS) - 1), NONE_MIN, NONE_MAX,
            NONE_MIN, NONE_MAX, hour)  # fmt: skip
