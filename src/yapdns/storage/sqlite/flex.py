"""Flex search on SQLite: pattern scans over owner names and rdata, in index order, in bounded chunks.

The pattern runs inside SQLite as the registered functions ``yapdns_flex``
(owner names: ``rrname || '.'``) and ``yapdns_flex_rdata`` (rdata in DNSDB
presentation form), so non-matching rows never leave the engine. Each chunk
is a keyset-paged SELECT of at most ``CHUNK`` matching rows; a progress
handler aborts a statement at the query's deadline, which ends the stream
with ``FlexTimeoutError``. Memory stays flat: rows are grouped as they stream
(``storage/flex.py``).

Scan orders (both served by existing indexes):

* owner names: ``(rrname_rev, rrtype, rdata)``, the ``rr`` unique key;
* rdata: A/AAAA by ``(ip, id)`` (``rr_ip``), then the rest by ``(rdata, id)`` (``rr_rdata``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

from yapdns.core import rrtypes
from yapdns.core.errors import YapdnsError
from yapdns.core.rdata import to_dnsdb_text
from yapdns.storage.flex import (
    RAW_COLUMNS,
    FlexMethod,
    FlexQuery,
    FlexRow,
    FlexTimeoutError,
    RawRow,
    compile_pattern,
    group_rows,
    name_row,
    raw_row,
    rdata_families,
    rdata_row,
)
from yapdns.storage.query import TypeFilter

CHUNK = 2000
# Every statement is one of these, plus WHERE fragments built here from fixed text; values are bound.
_NAMES_SELECT = f"SELECT rr.rrname, rr.rrtype, {RAW_COLUMNS}, rr.rrname_rev, rr.rrtype, rr.rdata FROM rr WHERE "
_IP_SELECT = f"SELECT rr.rdata, rr.rrtype, {RAW_COLUMNS}, rr.ip, rr.id FROM rr WHERE "
_OTHER_SELECT = f"SELECT rr.rdata, rr.rrtype, {RAW_COLUMNS}, rr.rdata, rr.id FROM rr WHERE "
_PROGRESS_OPS = 20_000
_failure = threading.local()


def register_flex_functions(conn: sqlite3.Connection) -> None:
    """Register the pattern predicates on one connection (each thread's reader has its own)."""
    memo: dict[str, object] = {"key": None, "hit": 0}

    def match(method: FlexMethod, pattern: str, text: str) -> int:
        key = (method, pattern, text)
        if memo["key"] == key:  # consecutive rows of one owner name
            return memo["hit"]  # type: ignore[return-value]
        hit = _guarded(lambda: compile_pattern(method, pattern).search(text))
        memo["key"], memo["hit"] = key, hit
        return hit

    def match_rdata(method: FlexMethod, pattern: str, code: int, rdata: str) -> int:
        return _guarded(lambda: compile_pattern(method, pattern).search(to_dnsdb_text(code, rdata)))

    conn.create_function("yapdns_flex", 3, match, deterministic=True)
    conn.create_function("yapdns_flex_rdata", 4, match_rdata, deterministic=True)


def _guarded(predicate: object) -> int:
    try:
        return 1 if predicate() else 0  # type: ignore[operator]
    except YapdnsError as exc:  # re-raised by the scan, since SQLite swallows the type
        _failure.error = exc
        raise


def iter_flex(conn: sqlite3.Connection, query: FlexQuery) -> Iterator[FlexRow]:
    """Stream the rows of a flex query (see module doc); raise ``FlexTimeoutError`` at the deadline."""
    compile_pattern(query.method, query.pattern)  # reject a bad pattern before the 200 goes out
    if query.exclude:
        compile_pattern(query.method, query.exclude)
    deadline = time.monotonic() + query.time_budget
    if query.target == "rrnames":
        return group_rows(_name_rows(conn, query, deadline), query, name_row)
    return group_rows(_rdata_rows(conn, query, deadline), query, rdata_row)


def _name_rows(conn: sqlite3.Connection, query: FlexQuery, deadline: float) -> Iterator[RawRow]:
    where, params = _predicates("yapdns_flex(?, ?, rr.rrname || '.')", query)
    where += _type_clause(query.types, params)
    base = _NAMES_SELECT + where
    order = "rr.rrname_rev, rr.rrtype, rr.rdata"
    yield from _keyset(conn, base, params, order, width=3, deadline=deadline)


def _rdata_rows(conn: sqlite3.Connection, query: FlexQuery, deadline: float) -> Iterator[RawRow]:
    ip_part, other_part = rdata_families(query.types)
    if ip_part:
        where, params = _predicates("yapdns_flex(?, ?, rr.rdata)", query)
        where += _type_clause(query.types, params)
        base = _IP_SELECT + where
        yield from _keyset(conn, base + " AND rr.ip IS NOT NULL", params, "rr.ip, rr.id", width=2, deadline=deadline)
    if other_part:
        where, params = _predicates("yapdns_flex_rdata(?, ?, rr.rrtype, rr.rdata)", query)
        where += _type_clause(query.types, params)
        base = _OTHER_SELECT + where + " AND rr.ip IS NULL"
        yield from _keyset(conn, base, params, "rr.rdata, rr.id", width=2, deadline=deadline)



def _predicates(call: str, query: FlexQuery) -> tuple[str, list[Any]]:
    where, params = call, [query.method, query.pattern]
    if query.exclude:
        where += f" AND NOT {call}"
        params += [query.method, query.exclude]
    return where, params


def _type_clause(types: TypeFilter, params: list[object]) -> str:
    clause = ""
    if types.codes is not None:
        clause += f" AND rr.rrtype IN ({', '.join('?' * len(types.codes))})"
        params.extend(sorted(types.codes))
    if types.dnssec is not None:
        codes = sorted(rrtypes.DNSSEC_TYPES)
        clause += f" AND rr.rrtype {'' if types.dnssec else 'NOT '}IN ({', '.join('?' * len(codes))})"
        params.extend(codes)
    return clause


def _keyset(
    conn: sqlite3.Connection, base: str, params: list[object], order: str, *, width: int, deadline: float
) -> Iterator[RawRow]:
    """Matching rows in ``order``, ``CHUNK`` at a time, resuming after the last row's ordering columns."""
    after: tuple[object, ...] | None = None
    while True:
        text, args = base, list(params)
        if after is not None:
            text += f" AND ({order}) > ({', '.join('?' * width)})"
            args += after
        rows = _fetch(conn, f"{text} ORDER BY {order} LIMIT {CHUNK}", args, deadline)
        for row in rows:
            yield raw_row(row[0], rrtypes.rrtype_text(row[1]), row[2:8])
        if len(rows) < CHUNK:
            return
        after = tuple(rows[-1][-width:])


def _fetch(conn: sqlite3.Connection, sql: str, args: list[object], deadline: float) -> list[tuple[Any, ...]]:
    if time.monotonic() >= deadline:
        raise FlexTimeoutError()
    conn.set_progress_handler(lambda: 1 if time.monotonic() >= deadline else 0, _PROGRESS_OPS)
    _failure.error = None
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError as exc:
        error: YapdnsError | None = getattr(_failure, "error", None)
        if error is not None:
            raise error from None
        if "interrupted" in str(exc):
            raise FlexTimeoutError() from None
        raise
    finally:
        conn.set_progress_handler(None, 0)
