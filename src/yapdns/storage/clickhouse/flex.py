"""Flex search on ClickHouse: records read in key order in chunks, matched in Python with ``FlexPattern``.

Owner names stream from ``entry`` in reversed-name order (rows of one name are adjacent, which is all
``group_rows`` needs); rdata from ``rdx``: addresses in address order, then the rdata text of other types.
The deadline is checked before each chunk; past it the stream ends with ``FlexTimeoutError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from yapdns.core import rrtypes
from yapdns.core.names import unreverse_name
from yapdns.core.rdata import to_dnsdb_text
from yapdns.storage.clickhouse.schema import NONE_MAX, NONE_MIN, Kind, RKind
from yapdns.storage.clickhouse.select import STATS, Where, count, cursor, types_clause
from yapdns.storage.flex import (
    FlexPattern,
    FlexQuery,
    FlexRow,
    FlexTimeoutError,
    RawRow,
    compile_pattern,
    group_rows,
    matches,
    name_row,
    rdata_families,
    rdata_row,
)
from yapdns.storage.query import TypeFilter, encode_cursor

CHUNK = 5000
Rows = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]


def iter_flex(rows: Rows, db: str, query: FlexQuery) -> Iterator[FlexRow]:
    pattern = compile_pattern(query.method, query.pattern)
    exclude = compile_pattern(query.method, query.exclude) if query.exclude else None
    deadline = time.monotonic() + query.time_budget
    if query.target == "rrnames":
        scan = _scan(rows, db, "entry", f"kind = {int(Kind.RR)}", ("rrname_rev", "rrtype", "k1"), query.types, deadline)
        named = ((unreverse_name(r[0]), *r[1:]) for r in scan)
        matched = (r for r in named if matches(pattern, exclude, r[0] + "."))
        return group_rows(matched, query, name_row)
    return group_rows(_rdata_rows(rows, db, query, pattern, exclude, deadline), query, rdata_row)


def _rdata_rows(
    rows: Rows, db: str, query: FlexQuery, pattern: FlexPattern, exclude: FlexPattern | None, deadline: float
) -> Iterator[RawRow]:
    ip_part, other_part = rdata_families(query.types)
    order = ("rkey", "rrname_rev", "rrtype", "rdata")
    if ip_part:
        scan = _scan(rows, db, "rdx", f"rkind = {int(RKind.IP)}", order, query.types, deadline, text="rdata")
        yield from (r for r in scan if matches(pattern, exclude, r[0]))
    if other_part:
        scan = _scan(rows, db, "rdx", f"rkind = {int(RKind.RDATA)}", order, query.types, deadline, text="rdata")
        for r in scan:
            if matches(pattern, exclude, to_dnsdb_text(rrtypes.rrtype_code(r[1]), r[0])):
                yield r




def _scan(
    rows: Rows,
    db: str,
    table: str,
    kind: str,
    order: Sequence[str],
    types: TypeFilter,
    deadline: float,
    text: str = "rrname_rev",
) -> Iterator[RawRow]:
    """``(key text, rrtype, first, last, count, zone first, zone last, zone only)`` of every record, in ``order``."""
    after: str | None = None
    kinds = [int if c == "rrtype" else str for c in order]
    while True:
        if time.monotonic() >= deadline:
            raise FlexTimeoutError()
        where = Where()
        where.add(kind)
        types_clause(where, types)
        cursor(where, after, order, kinds)
        chunk = rows(
            f"SELECT {text}, rrtype, {STATS}, {', '.join(order)} FROM {db}.{table} WHERE {where.sql()} "
            f"GROUP BY {', '.join(order)} ORDER BY {', '.join(order)} LIMIT {CHUNK}",
            where.params,
        )
        for r in chunk:
            first, last, hi, lo, _, _, ztf, ztl, zone_only = r[2:11]
            z_first, z_last = (None if v in (NONE_MIN, NONE_MAX) else int(v) for v in (ztf, ztl))
            yield (r[0], rrtypes.rrtype_text(int(r[1])), int(first), int(last), count(hi, lo), z_first, z_last,
                   bool(zone_only))  # fmt: skip
        if len(chunk) < CHUNK:
            return
        after = encode_cursor(tuple(chunk[-1][-len(order) :]))
