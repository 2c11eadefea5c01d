"""Whole-result summaries, bounded counts and sorts of the ClickHouse store (``Store.summarize``,
``Store.count_records``, ``Store.ranked_records``), with the SQL backends' semantics (``storage/summarize.py``).

Each reads the first ``scan_max + 1`` records of the query (key, filters, fences; no cursor, no offset) in the
key's order with ONE ``select.record_select`` statement, then folds those rows here; sightings are one more
statement over the same records, and the RRset count one more. ``count_records`` is one ``count()`` over the
bounded ``record_select``. The cost is bounded by ``scan_max`` rows at any store size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from yapdns.core.model import Record
from yapdns.core.normalize import COUNT_CEILING
from yapdns.core.rrtypes import rrtype_code
from yapdns.storage.base import NameSummary, RankKey, RecordSummary, SightingSummary, TypeSummary
from yapdns.storage.clickhouse import select
from yapdns.storage.clickhouse.schema import Kind
from yapdns.storage.query import Page, RecordQuery

DAY = 86400
Rows = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]
ProvNames = Callable[[Sequence[int]], dict[int, tuple[str, str, str]]]


class Scan(msgspec.Struct, frozen=True):
    """The first ``n`` records of a query in its key's order, and the statement that read them."""

    records: list[Record]
    sql: select.Select


def whole(query: RecordQuery) -> RecordQuery:
    """The query without its cursor and offset: the whole result, from its start."""
    return msgspec.structs.replace(query, cursor=None, offset=0)


def scan(rows: Rows, db: str, query: RecordQuery, provs: Sequence[int] | None, n: int,
         convert: Callable[[Sequence[Any]], Record]) -> Scan:  # fmt: skip
    """At most ``n`` records of the whole result of ``query``, in the key's order."""
    sql = select.record_select(db, whole(query), provs, n)
    return Scan([convert(r) for r in rows(sql.text, sql.params)], sql)


def count_records(rows: Rows, db: str, query: RecordQuery, provs: Sequence[int] | None, cap: int) -> int:
    """How many records match ``query`` (at most ``cap``)."""
    sql = select.record_select(db, whole(query), provs, max(int(cap), 0))
    return int(rows(f"SELECT count() FROM ({sql.text})", sql.params)[0][0])


def ranked(found: list[Record], query: RecordQuery, key: RankKey, descending: bool) -> Page[Record]:
    """``query.limit`` records from ``query.offset`` on, by ``key`` (ties by name, type code, rdata)."""
    sign = -1 if descending else 1

    def order(r: Record) -> tuple[int, str, int, str]:
        return sign * int(getattr(r, key)), r.rrname, rrtype_code(r.rrtype), r.rdata

    ordered = sorted(found, key=order)
    end = query.offset + query.limit
    return Page(ordered[query.offset : end], None, len(ordered) > end)


def summary(found: list[Record], query: RecordQuery, scan_max: int, top: int,
            sightings: list[SightingSummary], rrsets: int | None) -> RecordSummary:  # fmt: skip
    """The folded figures of ``found`` (the first ``scan_max + 1`` records)."""
    several = bool(found) and not (query.rrname is not None and query.rrname.kind == "exact")
    names, top_names = _names(found, top) if several else (1 if found else 0, [])
    traffic = [r for r in found if not r.zone_only]
    zone_first = [r.zone_time_first for r in found if r.zone_time_first is not None]
    zone_last = [r.zone_time_last for r in found if r.zone_time_last is not None]
    return RecordSummary(
        records=len(found),
        count=min(sum(r.count for r in found), COUNT_CEILING),
        names=names,
        rrsets=rrsets,
        time_first=min(r.time_first for r in traffic) if traffic else None,
        time_last=max(r.time_last for r in traffic) if traffic else None,
        zone_time_first=min(zone_first) if zone_first else None,
        zone_time_last=max(zone_last) if zone_last else None,
        by_type=_types(found),
        sightings=sightings,
        top_names=top_names,
        first_days=_days(r.time_first for r in found),
        last_days=_days(r.time_last for r in found),
        limited=len(found) > scan_max,
    )


def _names(found: list[Record], top: int) -> tuple[int, list[NameSummary]]:
    acc: dict[str, list[int]] = {}
    for r in found:
        row = acc.setdefault(r.rrname, [0, 0, r.time_first, r.time_last])
        row[0] += 1
        row[1] += r.count
        row[2], row[3] = min(row[2], r.time_first), max(row[3], r.time_last)
    busiest = sorted(acc.items(), key=lambda kv: (-kv[1][1], kv[0]))[: max(int(top), 0)]
    return len(acc), [NameSummary(n, k, min(c, COUNT_CEILING), f, last) for n, (k, c, f, last) in busiest]


def _types(found: list[Record]) -> list[TypeSummary]:
    acc: dict[str, list[int]] = {}
    for r in found:
        row = acc.setdefault(r.rrtype, [0, 0, r.time_first, r.time_last])
        row[0] += 1
        row[1] += r.count
        row[2], row[3] = min(row[2], r.time_first), max(row[3], r.time_last)
    ordered = sorted(acc.items(), key=lambda kv: (-kv[1][0], rrtype_code(kv[0])))
    return [TypeSummary(t, n, min(c, COUNT_CEILING), f, last) for t, (n, c, f, last) in ordered]


def _days(stamps: Any) -> list[tuple[int, int]]:
    per_day: dict[int, int] = defaultdict(int)
    for stamp in stamps:
        per_day[int(stamp) // DAY * DAY] += 1
    return sorted(per_day.items())


def sightings_of(rows: Rows, prov_names: ProvNames, db: str, done: Scan,
                 provs: Sequence[int] | None) -> list[SightingSummary]:  # fmt: skip
    """Per ``(sensor, evidence)``: the scanned records it saw, their summed count and window (of its
    provenances only, and only of ``provs`` when a sensor/evidence filter applies)."""
    params = dict(done.sql.params)
    keys = f"SELECT rrname_rev, rrtype, {_rdata_col(done.sql)} FROM ({done.sql.text})"
    only = ""
    if provs is not None:
        params["sp"] = tuple(provs)
        only = "AND prov IN %(sp)s"
    found = rows(
        f"SELECT prov, rrname_rev, rrtype, k1, {select.FIRST}, {select.LAST}, sumMerge(nhi), sumMerge(nlo) "
        f"FROM {db}.entry WHERE kind = {int(Kind.RR)} {only} AND (rrname_rev, rrtype, k1) GLOBAL IN ({keys}) "
        "GROUP BY prov, rrname_rev, rrtype, k1",
        params,
    )
    names = prov_names(sorted({int(r[0]) for r in found}))
    acc: dict[tuple[str, str], tuple[set[tuple[str, int, str]], list[int]]] = {}
    for prov, name, rrtype, rdata, first, last, hi, lo in found:
        sensor, evidence, _ = names[int(prov)]
        seen, row = acc.setdefault((sensor, evidence), (set(), [0, int(first), int(last)]))
        seen.add((name, int(rrtype), rdata))
        row[0] += select.count(hi, lo)
        row[1], row[2] = min(row[1], int(first)), max(row[2], int(last))
    out = [
        SightingSummary(s, e, len(seen), min(n, COUNT_CEILING), f, last)
        for (s, e), (seen, (n, f, last)) in acc.items()
    ]
    return sorted(out, key=lambda g: (-g.count, g.sensor, g.evidence))


def _rdata_col(sql: select.Select) -> str:
    """The rdata column of a ``record_select`` (``k1`` over ``entry``, ``rdata`` over ``rdx``)."""
    return "k1" if sql.text.startswith("SELECT rrname_rev, rrtype, k1,") else "rdata"


def rrset_count(rows: Rows, db: str, query: RecordQuery, scan_max: int) -> int:
    """How many RRsets (up to ``scan_max + 1``) the owner-name key of ``query`` matches."""
    assert query.rrname is not None
    sql = select.rrset_select(db, RecordQuery(rrname=query.rrname), scan_max + 1)
    return int(rows(f"SELECT count() FROM ({sql.text})", sql.params)[0][0])
