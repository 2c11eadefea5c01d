"""Flex search on PostgreSQL: keyset-paged scans, matched in Python with the shared ``FlexPattern``.

PostgreSQL's own regex engine (ARE) is not FCRE, and rdata is matched in
DNSDB presentation form (absolute names), which SQL does not produce; so
the pattern runs here, with the same guards as on SQLite, over rows read in
index order in chunks of ``CHUNK``. The deadline is checked before each
chunk; past it the stream ends with ``FlexTimeoutError`` after the rows it
yielded. Memory stays flat (``storage/flex.py`` groups rows as they stream).

Scan orders (existing indexes): owner names by the ``rr`` unique key;
rdata by ``(ip, id)`` for A/AAAA, then ``(rdata, id)`` for the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from yapdns.core import rrtypes
from yapdns.core.rdata import to_dnsdb_text
from yapdns.storage.flex import (
    RAW_COLUMNS,
    FlexPattern,
    FlexQuery,
    FlexRow,
    FlexTimeoutError,
    RawRow,
    compile_pattern,
    group_rows,
    matches,
    name_row,
    raw_row,
    rdata_families,
    rdata_row,
)
from yapdns.storage.query import TypeFilter

CHUNK = 5000
Rows = Callable[[str, Sequence[object]], list[tuple[Any, ...]]]
_COLS = f"rr.rrtype, {RAW_COLUMNS}"


def iter_flex(rows: Rows, query: FlexQuery) -> Iterator[FlexRow]:
    """Stream the rows of a flex query; raise ``FlexTimeoutError`` at the deadline."""
    pattern = compile_pattern(query.method, query.pattern)
    exclude = compile_pattern(query.method, query.exclude) if query.exclude else None
    deadline = time.monotonic() + query.time_budget
    if query.target == "rrnames":
        scan = _scan(rows, "rr.rrname", "", ("rr.rrname_rev", "rr.rrtype", "rr.rdata"), query.types, deadline)
        matched = (r for r in scan if matches(pattern, exclude, r[0] + "."))
        return group_rows(matched, query, name_row)
    return group_rows(_rdata_rows(rows, query, pattern, exclude, deadline), query, rdata_row)


def _rdata_rows(
    rows: Rows, query: FlexQuery, pattern: FlexPattern, exclude: FlexPattern | None, deadline: float
) -> Iterator[RawRow]:
    ip_part, other_part = rdata_families(query.types)
    if ip_part:
        scan = _scan(rows, "rr.rdata", "rr.ip IS NOT NULL", ("rr.ip", "rr.id"), query.types, deadline)
        yield from (r for r in scan if matches(pattern, exclude, r[0]))
    if other_part:
        scan = _scan(rows, "rr.rdata", "rr.ip IS NULL", ("rr.rdata", "rr.id"), query.types, deadline)
        for r in scan:
            code = rrtypes.rrtype_code(r[1])
            if matches(pattern, exclude, to_dnsdb_text(code, r[0])):
                yield r




def _type_clause(types: TypeFilter, params: list[object]) -> list[str]:
    clauses = []
    if types.codes is not None:
        clauses.append(f"rr.rrtype IN ({', '.join(['%s'] * len(types.codes))})")
        params.extend(sorted(types.codes))
    if types.dnssec is not None:
        codes = sorted(rrtypes.DNSSEC_TYPES)
        clauses.append(f"rr.rrtype {'' if types.dnssec else 'NOT '}IN ({', '.join(['%s'] * len(codes))})")
        params.extend(codes)
    return clauses


def _scan(
    rows: Rows, key: str, where: str, order: tuple[str, ...], types: TypeFilter, deadline: float
) -> Iterator[RawRow]:
    """``(key text, rrtype, first, last, count)`` of every row in ``order``, ``CHUNK`` at a time."""
    after: tuple[object, ...] | None = None
    while True:
        if time.monotonic() >= deadline:
            raise FlexTimeoutError()
        params: list[object] = []
        clauses = [where] if where else []
        clauses += _type_clause(types, params)
        if after is not None:
            clauses.append(f"({', '.join(order)}) > ({', '.join(['%s'] * len(order))})")
            params.extend(after)
        text = (
            f"SELECT {key}, {_COLS}, {', '.join(order)} FROM rr WHERE {' AND '.join(clauses) or 'true'} "
            f"ORDER BY {', '.join(order)} LIMIT {CHUNK}"
        )
        chunk = rows(text, params)
        for r in chunk:
            yield raw_row(r[0], rrtypes.rrtype_text(r[1]), r[2:8])
        if len(chunk) < CHUNK:
            return
        after = tuple(chunk[-1][-len(order) :])
