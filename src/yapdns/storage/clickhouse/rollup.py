"""``name_rollup`` on ClickHouse: a name's (or a zone's) whole-history figures, exact, read from ``entry``.

The SQL backends keep a per-name rollup table beside their records (``storage/rollup.py``). ClickHouse keeps
none: ``entry``'s per-RR rows are already in owner-name order, one per record and provenance, with
aggregate states, and min, max and sum fold in any order, so the figures per type and provenance are one
``GROUP BY rrtype, prov`` over the name's key range, merged with ``-Merge`` (exact whether or not background
merges ran); record and RRset counts are distinct keys of the same range (``uniqExact``), the busiest names one
``GROUP BY rrname_rev`` with a top-N sort. Nothing is stored twice, so ingest, retention and replays need no
rollup of their own. The cost grows with the range's rows (a zone's records times their provenances, read as
a few columns), not with the store. Rows are folded by ``storage/rollup.py``'s own helpers, so both give
the same figures for the same records (``tests/storage/test_rollup.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from yapdns.core.names import unreverse_name
from yapdns.core.normalize import COUNT_CEILING
from yapdns.storage import rollup
from yapdns.storage.base import NameRollup, NameSummary
from yapdns.storage.clickhouse.schema import LO_BITS, NONE_MAX, NONE_MIN, Kind
from yapdns.storage.query import NameMatch

Rows = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]
ProvNames = Callable[[Sequence[int]], dict[int, tuple[str, str, str]]]
_WINDOWS = "minMerge(tf), maxMerge(tl), minMerge(ztf), maxMerge(ztl)"
_RR_WINDOWS = ", ".join(f"{fn}MergeIf({c}, kind = {int(Kind.RR)})" for fn, c in
                        (("min", "tf"), ("max", "tl"), ("min", "ztf"), ("max", "ztl")))  # fmt: skip


def _count(merge: str = "Merge", cond: str = "") -> str:
    """A saturated count, exact in UInt64 (``hi`` stays below 2^31 unless the ceiling, 2^62, is passed)."""
    hi, lo = (f"toUInt64(sum{merge}({c}{cond}))" for c in ("nhi", "nlo"))
    return f"least(least({hi}, {1 << LO_BITS}) * {1 << LO_BITS} + {lo}, {COUNT_CEILING})"


def _opt(value: Any) -> int | None:
    return None if int(value) in (NONE_MIN, NONE_MAX) else int(value)


def name_rollup(rows: Rows, prov_names: ProvNames, db: str, name: str, below: bool, top: int,
                seen_by: bool) -> NameRollup:  # fmt: skip
    lo, hi = NameMatch("suffix" if below else "exact", name).key_range()
    where = "rrname_rev > %(lo)s AND rrname_rev < %(hi)s" if below else "rrname_rev = %(lo)s"
    params = {"lo": lo, "hi": hi}
    cells = rows(
        f"SELECT rrtype, prov, {_count()}, {_WINDOWS} FROM {db}.entry WHERE kind = {int(Kind.RR)} AND {where} "
        "GROUP BY rrtype, prov",
        params,
    )
    counted = rows(
        f"SELECT rrtype, uniqExactIf((rrname_rev, k1), kind = {int(Kind.RR)}), "
        f"uniqExactIf((rrname_rev, k1, k2), kind = {int(Kind.RRSET)}) FROM {db}.entry "
        f"WHERE kind IN ({int(Kind.RR)}, {int(Kind.RRSET)}) AND {where} GROUP BY rrtype",
        params,
    )
    if not counted:
        return rollup._rollup([], 0, [], [])
    names = prov_names(sorted({int(c[1]) for c in cells}))
    folded = [  # (rrtype, records, rrsets, count, tf, tl, ztf, ztl, sensor, evidence, source), as storage/rollup.py
        (int(t), 0, 0, int(n), *(_opt(v) for v in windows), *names[int(p)])
        for t, p, n, *windows in cells
    ]
    folded += [(int(t), int(nr), int(ns), 0, None, None, None, None, None, None, None) for t, nr, ns in counted]
    types = rollup._fold(folded, 0)
    seen = rollup._seen(folded) if seen_by else []
    n_names, busiest = _busiest(rows, db, where, params, top) if below else (1, [])
    return rollup._rollup(types, n_names, busiest, seen)


def _busiest(rows: Rows, db: str, where: str, params: dict[str, Any], top: int) -> tuple[int, list[NameSummary]]:
    """How many names have records or RRsets in the range, and the ``top`` busiest by count (ties by key)."""
    ((n,),) = rows(
        f"SELECT uniqExact(rrname_rev) FROM {db}.entry WHERE kind IN ({int(Kind.RR)}, {int(Kind.RRSET)}) "
        f"AND {where}",
        params,
    )
    if top <= 0 or not n:
        return int(n), []
    rr = f", kind = {int(Kind.RR)}"
    found = rows(  # names with RRsets only are there too (no records, no count), as in the SQL rollup
        f"SELECT rrname_rev, uniqExactIf(k1{rr}), {_count('MergeIf', rr)} AS n, {_RR_WINDOWS} FROM {db}.entry "
        f"WHERE kind IN ({int(Kind.RR)}, {int(Kind.RRSET)}) AND {where} GROUP BY rrname_rev "
        f"ORDER BY n DESC, rrname_rev LIMIT {int(top)}",
        params,
    )
    out = []
    for rev, records, n_seen, tf, tl, ztf, ztl in found:
        first = _opt(tf) if _opt(tf) is not None else _opt(ztf)
        last = _opt(tl) if _opt(tl) is not None else _opt(ztl)
        out.append(NameSummary(unreverse_name(rev), int(records), int(n_seen), first or 0, last or 0))
    return int(n), out
