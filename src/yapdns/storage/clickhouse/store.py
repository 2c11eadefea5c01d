"""``ClickHouseStore``: the record store on a ClickHouse server (``clickhouse://host:port/db``) or on chDB
(``chdb:///dir?database=db``), append then merge (docs/storage.md, "ClickHouse").

Writes go through a ``GroupWriter`` thread that hands groups to ``ClickHouseApplier`` (``writer.py``: one
insert per table, exactly once per batch id); reads (``select.py``) merge aggregate states, so they are
exact before and after background merges. The store keeps no state another process needs: several
``yapdns serve`` processes can share one database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from yapdns.core.model import (
    Evidence,
    NegativeRecord,
    Observation,
    Provenance,
    QueryRecord,
    Record,
    RRsetRecord,
    SampleLink,
)
from yapdns.core.names import reverse_name, unreverse_name
from yapdns.core.normalize import COUNT_CEILING
from yapdns.core.rrtypes import rrtype_code, rrtype_text
from yapdns.storage.aggregate import FoldedBatch, ProvKey
from yapdns.storage.base import (
    SUMMARY_SCAN_MAX,
    BatchRef,
    DiscoveryPage,
    IngestBucket,
    NameRollup,
    NameSummary,
    RankKey,
    RecordSummary,
    StoreStats,
    Then,
    WriteOutcome,
    iterate_pages,
)
from yapdns.storage.clickhouse import context, flex, order, retention, rollup, select, summarize
from yapdns.storage.clickhouse.client import Connection, translated
from yapdns.storage.clickhouse.schema import LO_BITS, NONE_MAX, NONE_MIN, Kind, migrations
from yapdns.storage.clickhouse.select import STATS, Select, count
from yapdns.storage.clickhouse.topology import Topology
from yapdns.storage.clickhouse.writer import GROUP_LIMIT, ClickHouseApplier, Row
from yapdns.storage.context import AddressPage, IpContextRow
from yapdns.storage.flex import FlexQuery, FlexRow
from yapdns.storage.group import GroupWriter
from yapdns.storage.prune import PruneReport, RetentionPolicy
from yapdns.storage.query import Page, RecordQuery, encode_cursor

T = TypeVar("T")
NAME_ROWS_MAX = 100_000


def _opt(value: int) -> int | None:
    return None if value in (NONE_MIN, NONE_MAX) else int(value)


def _windows(row: Sequence[Any]) -> dict[str, Any]:
    """``first last nhi nlo tmin tmax ztf ztl zone_only`` (``select.STATS``) as record fields."""
    return {
        "time_first": int(row[0]),
        "time_last": int(row[1]),
        "count": count(row[2], row[3]),
        "ttl_min": _opt(row[4]),
        "ttl_max": _opt(row[5]),
        "zone_time_first": _opt(row[6]),
        "zone_time_last": _opt(row[7]),
        "zone_only": bool(row[8]),
    }


def _record(row: Sequence[Any]) -> Record:
    return Record(rrname=unreverse_name(row[0]), rrtype=rrtype_text(int(row[1])), rdata=row[2], **_windows(row[3:]))


def _rrset(row: Sequence[Any]) -> RRsetRecord:
    return RRsetRecord(
        rrname=unreverse_name(row[0]),
        rrtype=rrtype_text(int(row[1])),
        bailiwick=row[2] or None,
        rdata=tuple(row[3].split("\n")),
        **_windows(row[4:]),
    )


class ClickHouseStore:
    """The record store in one ClickHouse database."""

    name = "clickhouse"

    def __init__(self, url: str, *, claim_lease: float = 60.0) -> None:
        self._topo = Topology(url)
        self._conn = self._topo.main
        self.db = self._conn.database
        lease = float(self._conn.options.pop("claim_lease", claim_lease))
        settle = float(self._conn.options.pop("seq_settle", 0))
        self._order = order.OrderReader(self._first_rows, self._rows, self.db, settle)
        self._applier = ClickHouseApplier(self._topo, lease)
        self._writer = GroupWriter(self._applier, group_limit=GROUP_LIMIT, threads=1, name="ch-writer")

    # -- schema -------------------------------------------------------------

    def migrate(self, through: int | None = None) -> list[str]:
        """Apply pending migrations on every node (the first node's names are returned)."""
        with translated():
            applied = [self._migrate_node(node, through) for node in self._topo.nodes]
        return applied[0]

    def pending_migrations(self) -> list[str]:
        """The migrations ``migrate`` would apply on some node, in order."""
        with translated():
            applied = [self._applied(node) for node in self._topo.nodes]
        return [name for version, name, _ in migrations() if any(version not in a for a in applied)]

    def readiness(self) -> list[str]:
        """Problems that stop writes: pending migrations, or a node that cannot be reached."""
        try:
            pending = self.pending_migrations()
        except Exception as exc:  # the reason names hosts: only its kind is shown
            return [f"ClickHouse cannot be reached ({type(exc).__name__})"]
        return [f"record store migrations pending: {', '.join(pending)} (run `yapdns migrate`)"] if pending else []

    def _applied(self, node: Connection) -> set[int]:
        known = node.rows(
            "SELECT count() FROM system.tables WHERE database = %(db)s AND name = 'schema_migration'", {"db": self.db}
        )
        if not int(known[0][0]):
            return set()
        return {int(v) for (v,) in node.rows(f"SELECT DISTINCT version FROM {self.db}.schema_migration")}

    def _migrate_node(self, node: Connection, through: int | None) -> list[str]:
        node.command(f"CREATE DATABASE IF NOT EXISTS {self.db}")
        node.command(
            f"CREATE TABLE IF NOT EXISTS {self.db}.schema_migration (version UInt32, name String, "
            "applied_at Int64) ENGINE = MergeTree() ORDER BY version"
        )
        applied = {int(v) for (v,) in node.rows(f"SELECT DISTINCT version FROM {self.db}.schema_migration")}
        names = []
        for version, name, statements in migrations(self._topo.cluster, self._topo.replicated):
            if version in applied or (through is not None and version > through):
                continue
            for statement in statements:
                node.command(statement.format(db=self.db))
            node.insert("schema_migration", ("version", "name", "applied_at"), [[version], [name], [int(time.time())]])
            names.append(name)
        return names

    # -- writes -------------------------------------------------------------

    def write(
        self, observations: Sequence[Observation], batch: BatchRef | None = None, then: Sequence[Then] = ()
    ) -> WriteOutcome:
        with translated():
            return self._writer.write(list(observations), batch, then)

    def load(self, folded: FoldedBatch, provs: dict[ProvKey, int], ref: BatchRef, commit_rows: list[Row]) -> bool:
        """Apply rows folded elsewhere once per ``ref`` (``copy.py``; not while this store instance writes);
        False when ``ref`` was applied before."""
        with translated():
            return self._applier.load(folded, provs, ref, commit_rows)

    def record_totals(self) -> tuple[int, int, int, int]:
        """Records, their summed counts (each saturated), first and last sighting (``copy.verify``)."""
        ((records, total, first, last),) = self._rows(
            f"SELECT count(), sum(c), min(f), max(l) FROM (SELECT {select.FIRST} AS f, {select.LAST} AS l, "
            f"least(toInt64(sumMerge(nhi)) * {1 << LO_BITS} + toInt64(sumMerge(nlo)), {COUNT_CEILING}) AS c "
            f"FROM {self.db}.entry WHERE kind = {int(Kind.RR)} GROUP BY rrname_rev, rrtype, k1)"
        )
        return int(records), int(total), int(first), int(last)

    # -- reads --------------------------------------------------------------

    def _rows(
        self, text: str, params: dict[str, Any] | None = None, settings: dict[str, int] | None = None
    ) -> list[tuple[Any, ...]]:
        with translated():
            return self._conn.rows(text, params, settings)

    def _page(self, build: Callable[[int], Select], convert: Callable[[Sequence[Any]], T], limit: int) -> Page[T]:
        sql = build(limit + 1)
        fetched = self._rows(sql.text, sql.params, sql.settings)
        more = len(fetched) > limit
        fetched = fetched[:limit]
        next_cursor = None
        if more and fetched:
            next_cursor = encode_cursor(tuple(fetched[-1][len(fetched[-1]) - sql.order_width :]))
        return Page([convert(r) for r in fetched], next_cursor, more)

    def provs_for(self, sensor: str | None, evidence: Evidence | None) -> list[int] | None:
        """Provenance ids of a sensor (and its sub-sensors ``sensor/...``) and/or evidence; ``[0]`` for none."""
        if sensor is None and evidence is None:
            return None
        where = select.Where()
        where.add(f"kind = {int(Kind.PROV)}")
        if sensor is not None:
            where.add(f"(rrname_rev = {where.p(sensor)} OR startsWith(rrname_rev, {where.p(sensor + '/')}))")
        if evidence is not None:
            where.add(f"k1 = {where.p(Evidence(evidence).value)}")
        found = self._rows(f"SELECT DISTINCT prov FROM {self.db}.entry WHERE {where.sql()}", where.params)
        return [int(p) for (p,) in found] or [0]

    def records(self, query: RecordQuery) -> Page[Record]:
        provs = self.provs_for(query.sensor, query.evidence)
        return self._page(lambda n: select.record_select(self.db, query, provs, n), _record, query.limit)

    def iter_records(self, query: RecordQuery) -> Iterator[Record]:
        return iterate_pages(self.records, query)

    def rrsets(self, query: RecordQuery) -> Page[RRsetRecord]:
        return self._page(lambda n: select.rrset_select(self.db, query, n), _rrset, query.limit)

    def iter_rrsets(self, query: RecordQuery) -> Iterator[RRsetRecord]:
        return iterate_pages(self.rrsets, query)

    def iter_flex(self, query: FlexQuery) -> Iterator[FlexRow]:
        return flex.iter_flex(self._rows, self.db, query)

    def negatives(self, query: RecordQuery) -> Page[NegativeRecord]:
        provs = self.provs_for(query.sensor, query.evidence)

        def convert(r: Sequence[Any]) -> NegativeRecord:
            return NegativeRecord(
                rrname=unreverse_name(r[0]), rrtype=rrtype_text(int(r[1])), rcode=r[2],
                time_first=int(r[3]), time_last=int(r[4]), count=count(r[5], r[6]),
            )  # fmt: skip

        build = lambda n: select.grouped_select(self.db, Kind.NEGATIVE, query, provs, n)  # noqa: E731
        return self._page(build, convert, query.limit)

    def queries(self, query: RecordQuery) -> Page[QueryRecord]:
        provs = self.provs_for(query.sensor, query.evidence)

        def convert(r: Sequence[Any]) -> QueryRecord:
            return QueryRecord(
                rrname=unreverse_name(r[0]), rrtype=rrtype_text(int(r[1])),
                time_first=int(r[2]), time_last=int(r[3]), count=count(r[4], r[5]),
            )  # fmt: skip

        build = lambda n: select.grouped_select(self.db, Kind.QUERY, query, provs, n)  # noqa: E731
        return self._page(build, convert, query.limit)

    def _prov_names(self, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
        if not ids:
            return {}
        found = self._rows(
            f"SELECT DISTINCT prov, rrname_rev, k1, k2 FROM {self.db}.entry WHERE kind = {int(Kind.PROV)} "
            "AND prov IN %(ids)s",
            {"ids": tuple(ids)},
        )
        return {int(p): (s, e, src) for p, s, e, src in found}

    def _provenance(self, rows: list[tuple[Any, ...]]) -> list[Provenance]:
        """``prov`` + ``STATS`` rows as provenances, in (sensor, evidence, source) order."""
        names = self._prov_names([int(r[0]) for r in rows])
        out = []
        for r in rows:
            sensor, evidence, source = names[int(r[0])]
            w = _windows(r[1:])
            out.append(
                Provenance(
                    sensor, Evidence(evidence), source, w["time_first"], w["time_last"], w["count"],
                    w["zone_time_first"], w["zone_time_last"], w["zone_only"],
                )
            )
        return sorted(out, key=lambda p: (p.sensor_id, p.evidence, p.source))

    def provenance(self, rrname: str, rrtype: str, rdata: str) -> list[Provenance]:
        rows = self._rows(
            f"SELECT prov, {STATS} FROM {self.db}.entry WHERE kind = {int(Kind.RR)} AND rrname_rev = %(n)s "
            "AND rrtype = %(t)s AND k1 = %(r)s GROUP BY prov",
            {"n": reverse_name(rrname), "t": rrtype_code(rrtype), "r": rdata},
        )
        return self._provenance(rows)

    def name_provenance(self, rrname: str) -> list[Provenance]:
        rows = self._rows(
            f"SELECT prov, {STATS} FROM {self.db}.entry WHERE kind = {int(Kind.RR)} AND rrname_rev = %(n)s "
            "GROUP BY prov",
            {"n": reverse_name(rrname)},
        )
        return self._provenance(rows)

    def samples(self, rrname: str, rrtype: str, rdata: str) -> list[SampleLink]:
        rows = self._rows(
            f"SELECT k2, minMerge(tf), maxMerge(tl), sumMerge(nhi), sumMerge(nlo) FROM {self.db}.entry "
            f"WHERE kind = {int(Kind.SAMPLE)} AND rrname_rev = %(n)s AND rrtype = %(t)s AND k1 = %(r)s GROUP BY k2",
            {"n": reverse_name(rrname), "t": rrtype_code(rrtype), "r": rdata},
        )
        links = [_link(r) for r in rows]
        return sorted(links, key=lambda s: (s.time_first, s.sha256, s.task_id or ""))

    def name_samples(self, rrname: str, limit: int = 100) -> list[SampleLink]:
        rows = self._rows(
            f"SELECT k2, minMerge(tf), maxMerge(tl), sumMerge(nhi), sumMerge(nlo) FROM {self.db}.entry "
            f"WHERE kind IN ({int(Kind.SAMPLE)}, {int(Kind.NAME_SAMPLE)}) AND rrname_rev = %(n)s GROUP BY k2 "
            "ORDER BY maxMerge(tl) DESC, k2 LIMIT %(limit)s",
            {"n": reverse_name(rrname), "limit": int(limit)},
        )
        return [_link(r) for r in rows]

    def sensors(self) -> list[str]:
        found = self._rows(f"SELECT DISTINCT rrname_rev FROM {self.db}.entry WHERE kind = {int(Kind.PROV)}")
        return sorted(s for (s,) in found)

    _PER_RECORD = (
        "SELECT rrname_rev, {first} AS first, {last} AS last, sumMerge(nhi) AS hi, sumMerge(nlo) AS lo "
        "FROM {db}.entry WHERE kind = {kind} GROUP BY rrname_rev, rrtype, k1"
    )

    def _name_totals(self, having: str, order: str, params: dict[str, Any]) -> list[NameSummary]:
        per_record = self._PER_RECORD.format(first=select.FIRST, last=select.LAST, db=self.db, kind=int(Kind.RR))
        rows = self._rows(
            f"SELECT rrname_rev, count(), sum(hi), sum(lo), min(first), max(last) FROM ({per_record}) "
            f"GROUP BY rrname_rev HAVING {having} ORDER BY {order} LIMIT %(limit)s",
            params,
        )
        return [NameSummary(unreverse_name(r[0]), int(r[1]), count(r[2], r[3]), int(r[4]), int(r[5])) for r in rows]

    def new_names(self, since: int, limit: int = 50) -> list[NameSummary]:
        """Names first seen at or after ``since`` (a scan of the records: ClickHouse reads columns fast)."""
        params = {"since": since, "limit": limit}
        found = self._name_totals("min(first) >= %(since)s", "min(first) DESC, rrname_rev", params)
        return sorted(found, key=lambda n: (-n.time_first, n.rrname))

    def scan_top_names(self, limit: int = 100) -> list[NameSummary]:
        found = self._name_totals("1", "toFloat64(sum(hi)) * 2147483648 + sum(lo) DESC, rrname_rev", {"limit": limit})
        return sorted(found, key=lambda n: (-n.count, n.rrname))

    # -- whole-result summaries and sorts (summarize.py) ------------------------

    def _scan(self, query: RecordQuery, n: int) -> tuple[summarize.Scan, list[int] | None]:
        provs = self.provs_for(query.sensor, query.evidence)
        return summarize.scan(self._rows, self.db, query, provs, n, _record), provs

    def summarize(
        self, query: RecordQuery, scan_max: int = SUMMARY_SCAN_MAX, top: int = 10, sightings: bool = True
    ) -> RecordSummary:
        done, provs = self._scan(query, scan_max + 1)
        seen = (
            summarize.sightings_of(self._rows, self._prov_names, self.db, done, provs)
            if done.records and sightings
            else []
        )
        rrsets = summarize.rrset_count(self._rows, self.db, query, scan_max) if query.rrname is not None else None
        return summarize.summary(done.records, query, scan_max, top, seen, rrsets)

    def name_rollup(self, name: str, below: bool = False, top: int = 10, seen_by: bool = True) -> NameRollup:
        """Exact, from ``entry``'s rows in the name's key range (``clickhouse/rollup.py``: no table of its own)."""
        return rollup.name_rollup(self._rows, self._prov_names, self.db, name, below, top, seen_by)

    def count_records(self, query: RecordQuery, cap: int) -> int:
        provs = self.provs_for(query.sensor, query.evidence)
        return summarize.count_records(self._rows, self.db, query, provs, cap)

    def ranked_records(
        self, query: RecordQuery, key: RankKey, descending: bool = True, scan_max: int = SUMMARY_SCAN_MAX
    ) -> Page[Record]:
        done, _ = self._scan(query, scan_max + 1)
        return summarize.ranked(done.records, query, key, descending)

    def ingest_history(self, since: int) -> list[IngestBucket]:
        start = since - since % 3600
        hours = self._rows(
            f"SELECT prov, rrname_rev, minMerge(tf), sumMerge(nhi), sumMerge(nlo) FROM {self.db}.entry "
            f"WHERE kind = {int(Kind.HOUR)} GROUP BY prov, rrname_rev HAVING minMerge(tf) >= %(start)s",
            {"start": start},
        )
        if not hours:
            return []
        new = dict(
            self._rows(
                f"SELECT ins, count() FROM (SELECT minMerge(ins) AS ins FROM {self.db}.entry "
                f"WHERE kind = {int(Kind.RR)} GROUP BY rrname_rev, rrtype, k1) WHERE ins >= %(start)s GROUP BY ins",
                {"start": start},
            )
        )
        buckets: dict[tuple[int, str], list[int]] = {}
        for stamp, sensor, hour, hi, lo in hours:
            bucket = buckets.setdefault((int(hour), sensor), [0, 0])
            bucket[0] += count(hi, lo)
            bucket[1] += int(new.pop(int(stamp), 0))  # a second written by two groups books its records once
        return [IngestBucket(h, s, min(o, 2**62), n) for (h, s), (o, n) in sorted(buckets.items())]

    def stats(self) -> StoreStats:
        db, rr = self.db, int(Kind.RR)
        by_type = self._rows(
            f"SELECT rrtype, count() FROM (SELECT rrtype FROM {db}.entry WHERE kind = {rr} "
            "GROUP BY rrname_rev, rrtype, k1) GROUP BY rrtype ORDER BY count() DESC, rrtype"
        )
        distinct = dict(
            self._rows(
                f"SELECT kind, count() FROM (SELECT kind FROM {db}.entry WHERE kind IN "
                f"({int(Kind.RRSET)}, {int(Kind.NEGATIVE)}, {int(Kind.QUERY)}, {int(Kind.BATCH)}) "
                "GROUP BY kind, rrname_rev, rrtype, k1, k2, prov) GROUP BY kind"
            )
        )
        ((hi, lo),) = self._rows(
            f"SELECT sumMerge(nhi), sumMerge(nlo) FROM {db}.entry WHERE kind = {int(Kind.HOUR)}"
        )
        size = sum(
            int(shard.rows("SELECT sum(bytes) FROM system.parts WHERE database = %(db)s AND active", {"db": db})[0][0])
            for shard in self._topo.shards
        )
        return StoreStats(
            backend=self.name,
            records=sum(int(n) for _, n in by_type),
            rrsets=int(distinct.get(int(Kind.RRSET), 0)),
            negatives=int(distinct.get(int(Kind.NEGATIVE), 0)),
            queries=int(distinct.get(int(Kind.QUERY), 0)),
            observations=count(hi, lo),
            batches=int(distinct.get(int(Kind.BATCH), 0)),
            records_by_type={rrtype_text(int(t)): int(n) for t, n in by_type},
            size_bytes=int(size),
        )

    # -- storage order (order.py) and address context (context.py), on the first shard --------------------

    def _first_rows(self, text: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with translated():
            return self._topo.shards[0].rows(text, params)

    def discoveries(self, after: int, scan: int = 10_000, within: str | None = None) -> DiscoveryPage:
        return self._order.discoveries(after, scan, within)

    def first_under(self, name: str, seq: int) -> bool:
        return self._order.first_under(name, seq)

    def readdressed(self, after: int, scan: int = 10_000) -> tuple[list[str], int]:
        return self._order.readdressed(after, scan)

    def address_feed(self, cursor: str | None, limit: int) -> AddressPage:
        return self._order.address_feed(cursor, limit)

    def add_ip_context(self, rows: Sequence[IpContextRow]) -> int:
        with translated():
            return context.add_ip_context(self._topo.shards[0], rows)

    def ip_context(self, ips: Sequence[str]) -> dict[str, list[IpContextRow]]:
        with translated():
            return context.ip_context(self._topo.shards[0], ips)

    def prune(self, policy: RetentionPolicy, *, dry_run: bool = False) -> PruneReport:
        """Apply ``policy`` (``storage/prune.py``'s ``Prunable``): expired records go whole (``retention.py``)."""
        with translated():
            return retention.prune(self._topo, policy, dry_run)

    def close(self) -> None:
        self._writer.stop()
        self._topo.close()


def _link(row: Sequence[Any]) -> SampleLink:
    sha, _, task = str(row[0]).partition("\t")
    first, last, total = int(row[1]), int(row[2]), count(row[3], row[4])
    return SampleLink(sha256=sha, task_id=task or None, time_first=first, time_last=last, count=total)

