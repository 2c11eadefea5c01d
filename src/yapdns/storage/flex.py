"""Flex search: regular-expression and glob scans over owner names and over rdata.

DNSDB's Flex API matches a pattern against every owner name (with its
trailing dot) or every rdata string (DNSDB presentation form, names
absolute) and returns one row per distinct ``(rrname, rrtype)`` or
``(rdata, rrtype)``. This module owns what every backend shares:

* ``FlexQuery`` / ``FlexRow``: the request and the result row;
* ``FlexPattern``: turning FCRE (Farsight's POSIX-ERE-like syntax) or a glob
  into a compiled matcher, with the guards that keep a hostile pattern from
  stalling a worker (size cap, no back-references or Perl extensions, and a
  per-match timeout for patterns that repeat groups);
* ``group_rows``: folding the per-RR rows a backend streams in key order into
  one aggregate row per key (times by ``core.windows.combine``: traffic and
  zone-file windows kept apart), then fencing, offsetting and limiting them.

A backend scans in index order, in bounded chunks, and stops at the query's
deadline by raising ``FlexTimeoutError`` after the rows it did yield.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, Literal

import msgspec
import regex

from yapdns.core import rrtypes
from yapdns.core.errors import InvalidQuery, StoreError
from yapdns.core.windows import Windows, combine
from yapdns.storage.query import TimeFence, TypeFilter

FlexTarget = Literal["rrnames", "rdata"]
FlexMethod = Literal["regex", "glob"]

MAX_PATTERN = 1024
MATCH_TIMEOUT = 0.05  # seconds one match may take when the pattern repeats a group
_RISKY = regex.compile(r"\)[*+{]")  # a repeated group: the source of catastrophic backtracking
_FORBIDDEN = regex.compile(r"\\[0-9]|\(\?|\\[pPNxXuUgGkKzZAbBdDwWsS]")


class FlexTimeoutError(StoreError):
    """The flex scan reached its time limit before finishing."""

    code = "flex_timeout"


class FlexQuery(msgspec.Struct, frozen=True, kw_only=True):
    """One flex search: what to match, how, and how much to return."""

    target: FlexTarget
    method: FlexMethod
    pattern: str
    exclude: str | None = None
    types: TypeFilter = TypeFilter()
    fence: TimeFence = TimeFence()
    limit: int = 10_000
    offset: int = 0
    time_budget: float = 60.0  # seconds the scan may run


class FlexRow(msgspec.Struct, frozen=True, kw_only=True):
    """One distinct owner name (``rrname`` set) or rdata value (``rdata`` set) and its aggregate."""

    rrtype: str
    rrname: str | None = None
    rdata: str | None = None
    time_first: int
    time_last: int
    count: int
    zone_time_first: int | None = None
    zone_time_last: int | None = None
    zone_only: bool = False


class FlexPattern:
    """A compiled FCRE or glob with the guards applied; ``search(text)`` is the predicate."""

    def __init__(self, method: FlexMethod, pattern: str) -> None:
        if not pattern or len(pattern) > MAX_PATTERN:
            raise InvalidQuery(f"a {method} must have 1 to {MAX_PATTERN} characters")
        source = glob_to_regex(pattern) if method == "glob" else _checked_fcre(pattern)
        try:
            self._compiled = regex.compile(source, regex.VERSION0)
        except regex.error as exc:
            raise InvalidQuery(f"invalid {method}: {exc}") from None
        self._timeout = MATCH_TIMEOUT if _RISKY.search(source) else None

    def search(self, text: str) -> bool:
        """Whether the pattern matches ``text`` (unanchored; a glob is anchored by construction)."""
        if self._timeout is None:
            return self._compiled.search(text) is not None
        try:
            return self._compiled.search(text, timeout=self._timeout) is not None
        except TimeoutError:
            raise InvalidQuery("the pattern is too expensive to evaluate; simplify its repeated groups") from None


@lru_cache(maxsize=256)


def matches(pattern: FlexPattern, exclude: FlexPattern | None, text: str) -> bool:
    """Whether ``text`` matches ``pattern`` and not ``exclude`` (the backends' Flex filter after a scan)."""
    return bool(pattern.search(text)) and not (exclude is not None and exclude.search(text))


def rdata_families(types: TypeFilter) -> tuple[bool, bool]:
    """Whether the IP stream and the other-rdata stream can hold wanted types (which scans a backend runs)."""
    if types.dnssec:
        return False, True
    if types.codes is None:
        return True, True
    return bool(types.codes & rrtypes.IP_TYPES), bool(types.codes - rrtypes.IP_TYPES)


def compile_pattern(method: FlexMethod, pattern: str) -> FlexPattern:
    """A cached ``FlexPattern`` (backends call this once per row from SQL)."""
    return FlexPattern(method, pattern)


def _checked_fcre(pattern: str) -> str:
    """Refuse what FCRE does not have: back-references, ``(?...)`` extensions, Perl class escapes."""
    found = _FORBIDDEN.search(pattern)
    if found:
        raise InvalidQuery(f"unsupported regex construct {found.group()!r}: FCRE is POSIX extended syntax")
    return pattern


def glob_to_regex(glob: str) -> str:
    """An anchored regex for a glob: ``*`` any run (dots too), ``?`` one character, ``[...]`` a set."""
    out: list[str] = ["^"]
    i = 0
    while i < len(glob):
        ch = glob[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[" and (end := _bracket_end(glob, i)) > i:
            body = glob[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif ch == "\\" and i + 1 < len(glob):
            i += 1
            out.append(regex.escape(glob[i]))
        else:
            out.append(regex.escape(ch))
        i += 1
    out.append("$")
    return "".join(out)


def _bracket_end(glob: str, start: int) -> int:
    """Index of the ``]`` closing the set opened at ``start``, or -1."""
    i = start + 1
    if i < len(glob) and glob[i] in "!^":
        i += 1
    if i < len(glob) and glob[i] == "]":
        i += 1
    end = glob.find("]", i)
    return end


RawRow = tuple[str, str, int, int, int, int | None, int | None, bool]
"""key text, rrtype mnemonic, time_first, time_last, count, zone_time_first, zone_time_last, zone_only"""
RAW_COLUMNS = "rr.time_first, rr.time_last, rr.count, rr.zone_time_first, rr.zone_time_last, rr.zone_only"


RowMaker = Callable[[str, str, "_Aggregate"], FlexRow]


def raw_row(text: str, rrtype: str, cols: tuple[Any, ...]) -> RawRow:
    """A ``RawRow`` from a key, a type and the ``RAW_COLUMNS`` values of one ``rr`` row."""
    first, last, count, zone_first, zone_last, zone_only = cols
    return (text, rrtype, first, last, count, zone_first, zone_last, bool(zone_only))


def group_rows(rows: Iterable[RawRow], query: FlexQuery, make: RowMaker) -> Iterator[FlexRow]:
    """Fold consecutive rows sharing a key text into one row per ``(key, rrtype)``; fence, offset, limit.

    ``rows`` must arrive with equal keys adjacent (rrtypes may interleave
    inside one key). At most ``query.limit`` rows are yielded.
    """
    skip, left = query.offset, query.limit
    for row in _grouped(rows, make):
        if not _fenced(row, query.fence):
            continue
        if skip:
            skip -= 1
            continue
        yield row
        left -= 1
        if left <= 0:
            return


class _Aggregate:
    """The windows and count of one ``(key, rrtype)`` so far."""

    __slots__ = ("count", "windows")

    def __init__(self, windows: Windows, count: int) -> None:
        self.windows = windows
        self.count = count


def _grouped(rows: Iterable[RawRow], make: RowMaker) -> Iterator[FlexRow]:
    key: str | None = None
    run: dict[str, _Aggregate] = {}
    for text, rrtype, first, last, count, zone_first, zone_last, zone_only in rows:
        if text != key:
            yield from (make(key, t, s) for t, s in sorted(run.items()) if key is not None)
            key, run = text, {}
        windows = Windows(first, last, zone_first, zone_last, zone_only)
        agg = run.get(rrtype)
        if agg is None:
            run[rrtype] = _Aggregate(windows, count)
        else:
            agg.windows, agg.count = combine(agg.windows, windows), agg.count + count
    if key is not None:
        yield from (make(key, t, s) for t, s in sorted(run.items()))


def _fenced(row: FlexRow, fence: TimeFence) -> bool:
    return not (
        (fence.first_before is not None and row.time_first > fence.first_before)
        or (fence.first_after is not None and row.time_first < fence.first_after)
        or (fence.last_before is not None and row.time_last > fence.last_before)
        or (fence.last_after is not None and row.time_last < fence.last_after)
    )


def _fields(agg: _Aggregate) -> dict[str, Any]:
    return {**agg.windows._asdict(), "count": agg.count}


def name_row(key: str, rrtype: str, agg: _Aggregate) -> FlexRow:
    return FlexRow(rrname=key, rrtype=rrtype, **_fields(agg))


def rdata_row(key: str, rrtype: str, agg: _Aggregate) -> FlexRow:
    return FlexRow(rdata=key, rrtype=rrtype, **_fields(agg))
