"""Running a ``DnsdbCall`` against the store: rows for lookups and Flex, one object for summaries.

Each ``*_rows`` function yields DNSDB objects in the store's stable order,
at most ``limit + 1`` of them after skipping ``offset`` (the extra row tells
``saf_lines`` to end with ``limited``), streaming page by page.

* rrset lookups read the per-RRset aggregates: one row per
  ``(rrname, rrtype, bailiwick, rdata set)``;
* rdata lookups read per-RR aggregates: one row per ``(rrname, rrtype, rdata)``;
* ``aggr=false`` returns the same rows: the store keeps aggregates only
  (``docs/api.md`` explains why this is the honest answer);
* summaries fold the rows a lookup would return (up to ``limit``), stopping
  once ``count`` reaches ``max_count``; their times are the traffic window
  and the zone-file window of those rows, kept apart (``core/windows.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Protocol

import msgspec

from yapdns.core.model import Record
from yapdns.core.windows import HasWindows, Windows, combine
from yapdns.server.compat.dnsdb import render
from yapdns.server.compat.dnsdb.routes import DnsdbCall
from yapdns.storage.base import Store
from yapdns.storage.flex import FlexQuery
from yapdns.storage.query import RecordQuery, TimeFence, TypeFilter


class _Counted(HasWindows, Protocol):
    @property
    def count(self) -> int: ...


class Options(msgspec.Struct, frozen=True, kw_only=True):
    """The query-string options of one request, already validated."""

    limit: int
    offset: int = 0
    fence: TimeFence = TimeFence()
    humantime: bool = False
    aggr: bool = True
    max_count: int | None = None
    exclude: str | None = None
    verbose: bool = True
    time_budget: float = 60.0


def lookup_rows(store: Store, call: DnsdbCall, opts: Options) -> Iterator[render.Obj]:
    """The objects of a lookup (rrset or rdata)."""
    if call.kind == "rrset":
        query = _record_query(call, opts, opts.limit + 1, opts.offset, rrname=call.name, bailiwick=call.bailiwick)
        return (render.rrset_obj(r, opts.humantime) for r in store.iter_rrsets(query))
    return (render.rdata_obj(r, opts.humantime) for r in _records(store, call, opts, opts.limit + 1, opts.offset))


def _records(store: Store, call: DnsdbCall, opts: Options, limit: int, offset: int) -> Iterator[Record]:
    if call.kind == "rdata_name":
        return store.iter_records(_record_query(call, opts, limit, offset, rdata_name=call.name))
    if call.kind == "rdata_ip":
        return store.iter_records(_record_query(call, opts, limit, offset, rdata_ip=call.ip))
    return _raw_records(store, call, opts, limit, offset)


def _raw_records(store: Store, call: DnsdbCall, opts: Options, limit: int, offset: int) -> Iterator[Record]:
    """rdata/raw: each candidate (type, rdata) in turn, offset and limit applied across them."""
    streams = (
        store.iter_records(
            RecordQuery(rdata=rdata, types=TypeFilter(codes=frozenset({code})), fence=opts.fence, limit=limit + offset)
        )
        for code, rdata in call.raw
    )
    return itertools.islice(itertools.chain.from_iterable(streams), offset, offset + limit)


def _record_query(call: DnsdbCall, opts: Options, limit: int, offset: int, **key: object) -> RecordQuery:
    return RecordQuery(types=call.types, fence=opts.fence, limit=limit, offset=offset, **key)  # type: ignore[arg-type]


def flex_rows(store: Store, call: DnsdbCall, opts: Options) -> Iterator[render.Obj]:
    """The objects of a Flex search."""
    query = FlexQuery(
        target=call.kind,  # type: ignore[arg-type]
        method=call.method,
        pattern=call.pattern,
        exclude=opts.exclude,
        types=call.types,
        fence=opts.fence,
        limit=opts.limit + 1,
        offset=opts.offset,
        time_budget=opts.time_budget,
    )
    return (render.flex_obj(r, opts.verbose, opts.humantime) for r in store.iter_flex(query))


def summary_rows(store: Store, call: DnsdbCall, opts: Options) -> Iterator[render.Obj]:
    """At most one summary object; none when nothing matches."""
    if call.kind == "rrset":
        query = _record_query(call, opts, opts.limit, 0, rrname=call.name, bailiwick=call.bailiwick)
        rows: Iterator[_Counted] = store.iter_rrsets(query)
    else:
        rows = _records(store, call, opts, opts.limit, 0)
    count = num = 0
    windows: Windows | None = None
    for row in rows:
        num += 1
        count += row.count
        windows = Windows.of(row) if windows is None else combine(windows, Windows.of(row))
        if opts.max_count is not None and count >= opts.max_count:
            break
    if windows is not None:
        yield render.summary_obj(count, num, windows, opts.humantime)
