"""SELECTs of the ClickHouse store: a query's key, filters, fences and cursor, over ``entry`` or ``rdx``.

Every read merges the aggregate states of the rows it touches (``minMerge`` ...), so it is exact whether
or not background merges have run. Each key has a sort order of its own (the cursor):

=================  ==========================================  ==================================
key                table, condition                            order (= cursor)
=================  ==========================================  ==================================
rrname exact       entry, ``rrname_rev = k``                   rrname_rev, rrtype, rdata
rrname ``*.x``     entry, ``k < rrname_rev < k'``              rrname_rev, rrtype, rdata
rrname ``x.*``     entry, ``endsWith(rrname_rev, '.' + k)``    forward name, rrtype, rdata
rdata IP/CIDR      rdx IP, ``lo <= rkey <= hi`` (hex)          address, rrname_rev, rrtype, rdata
rdata name         rdx TARGET, exact or range                  target_rev, rrname_rev, rrtype, rdata
rdata ``x.*``      rdx RDATA, range, name types                rdata, rrname_rev, rrtype
rdata exact        rdx IP (one IP type) or RDATA, ``= v``      key, rrname_rev, rrtype, rdata
sample             entry, keys of the sample's SAMPLE rows      rrname_rev, rrtype, rdata
=================  ==========================================  ==================================

Values travel as ``%(pN)s`` parameters; only identifiers chosen here are interpolated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from yapdns.core import rrtypes
from yapdns.core.errors import InvalidQuery
from yapdns.core.names import reverse_name
from yapdns.core.rdata import NAME_TYPES, ip_key
from yapdns.storage.clickhouse.context import filter_clause
from yapdns.storage.clickhouse.schema import LO_BITS, NONE_MAX, Kind, RKind
from yapdns.storage.query import NameMatch, RecordQuery, TimeFence, TypeFilter, decode_cursor

FORWARD = "arrayStringConcat(arrayReverse(splitByChar('.', rrname_rev)), '.')"
# The windows of merged rows (core.windows.combine): traffic times when any row saw traffic, else zone times.
TRAFFIC = f"maxMerge(tl) != {NONE_MAX}"
FIRST = f"if({TRAFFIC}, minMerge(tf), minMerge(ztf))"
LAST = f"if({TRAFFIC}, maxMerge(tl), maxMerge(ztl))"
STATS = (
    f"{FIRST}, {LAST}, sumMerge(nhi), sumMerge(nlo), minMerge(tmin), maxMerge(tmax), minMerge(ztf), maxMerge(ztl), "
    f"NOT ({TRAFFIC})"
)


# Settings of a point lookup (one key: a granule or two per part): one thread. A second one only adds a
# hand-off and a merge of partial aggregates for a handful of rows (docs/storage.md, "Query latency").
POINT = {"max_threads": 1}


class Select(msgspec.Struct, frozen=True):
    """A statement, its parameters, how many trailing columns form the cursor, and its own settings."""

    text: str
    params: dict[str, Any]
    order_width: int
    settings: dict[str, int] = msgspec.field(default_factory=dict)


def point(q: RecordQuery) -> bool:
    """Whether ``q`` reads one key: an exact owner name, address, rdata or rdata name (no scan, no range)."""
    if q.sample is not None or q.context is not None:
        return False
    if q.rrname is not None:
        return q.rrname.kind == "exact"
    if q.rdata_ip is not None:
        return q.rdata_ip.lo == q.rdata_ip.hi
    if q.rdata_name is not None:
        return q.rdata_name.kind == "exact"
    return q.rdata is not None


class Where:
    """AND-ed clauses with named parameters; ``filters`` puts the plain ones in ``PREWHERE``."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.late: list[str] = []  # clauses with a subquery: WHERE, after PREWHERE
        self.params: dict[str, Any] = {}

    def p(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def add(self, clause: str, *, subquery: bool = False) -> None:
        """AND ``clause`` (once: two filters may ask for the same one, e.g. ``rkind = IP``)."""
        target = self.late if subquery else self.clauses
        if clause not in target:
            target.append(clause)

    def sql(self) -> str:
        both = self.clauses + self.late
        return " AND ".join(both) if both else "1"

    def filters(self) -> str:
        """``PREWHERE plain [WHERE subqueries]``: a MergeTree read evaluates the plain clauses (keys, types,
        cursor) on their own columns first and reads the other columns (the aggregate states) only for the
        granules where a row passes, so a part without the key costs its key columns, not every column."""
        if not self.clauses:
            return f"WHERE {self.sql()}"
        late = f" WHERE {' AND '.join(self.late)}" if self.late else ""
        return f"PREWHERE {' AND '.join(self.clauses)}{late}"


def types_clause(where: Where, types: TypeFilter, col: str = "rrtype") -> None:
    if types.codes is not None:
        where.add(f"{col} IN {where.p(tuple(sorted(types.codes)))}")
    if types.dnssec is not None:
        neg = "" if types.dnssec else "NOT "
        where.add(f"{col} {neg}IN {where.p(tuple(sorted(rrtypes.DNSSEC_TYPES)))}")


def fences(where: Where, fence: TimeFence, first: str, last: str) -> None:
    for value, clause in (
        (fence.first_before, f"{first} <= "),
        (fence.first_after, f"{first} >= "),
        (fence.last_before, f"{last} <= "),
        (fence.last_after, f"{last} >= "),
    ):
        if value is not None:
            where.add(clause + where.p(value))


def cursor(where: Where, text: str | None, order: Sequence[str], kinds: Sequence[type]) -> None:
    """Rows strictly after the cursor in ``order`` (lexicographic, spelled out: 18.16 has no tuple ``>``)."""
    if text is None:
        return
    values = decode_cursor(text)
    if len(values) != len(order) or not all(type(v) is k for v, k in zip(values, kinds, strict=True)):
        raise InvalidQuery("invalid cursor: it does not belong to this query")
    marks = [where.p(v) for v in values]
    terms = []
    for i in range(len(order)):
        equal = [f"{order[j]} = {marks[j]}" for j in range(i)]
        terms.append("(" + " AND ".join([*equal, f"{order[i]} > {marks[i]}"]) + ")")
    where.add(f"({order[0]} >= {marks[0]})")  # lets the primary index start at the cursor
    where.add("(" + " OR ".join(terms) + ")")


def name_range(where: Where, match: NameMatch, col: str) -> None:
    lo, hi = match.key_range()
    if match.kind == "exact":
        where.add(f"{col} = {where.p(lo)}")
    else:
        where.add(f"{col} > {where.p(lo)} AND {col} < {where.p(hi)}")


def _record_source(where: Where, q: RecordQuery, db: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The table, the grouping columns (name, type, rdata and any leading key) and the order of a query."""
    entry_group = ("rrname_rev", "rrtype", "k1")
    if q.context is not None and (q.rrname is not None or q.sample is not None):
        addresses = f"rrtype IN ({int(rrtypes.A)}, {int(rrtypes.AAAA)})"
        where.add(addresses)
        where.add(filter_clause(db, q.context, "k1", where.p), subquery=True)
    if q.rrname is not None:
        where.add(f"kind = {int(Kind.RR)}")
        if q.rrname.kind == "prefix":
            where.add(f"endsWith(rrname_rev, {where.p('.' + reverse_name(q.rrname.name))})")
            return "entry", entry_group, ("fwd", "rrtype", "k1")
        name_range(where, q.rrname, "rrname_rev")
        return "entry", entry_group, entry_group
    if q.sample is not None:
        where.add(f"kind = {int(Kind.RR)}")
        where.add(
            f"(rrname_rev, rrtype, k1) IN (SELECT rrname_rev, rrtype, k1 FROM {db}.entry WHERE kind = "
            f"{int(Kind.SAMPLE)} AND startsWith(k2, {where.p(q.sample + chr(9))}))",
            subquery=True,
        )
        return "entry", entry_group, entry_group
    group = ("rkey", "rrname_rev", "rrtype", "rdata")
    if q.context is not None:  # the context filter, alone or beside an rdata key: addresses only
        where.add(f"rkind = {int(RKind.IP)}")
        where.add(filter_clause(db, q.context, "rkey", where.p), subquery=True)
    if q.rdata_ip is not None:
        where.add(f"rkind = {int(RKind.IP)}")
        where.add(f"rkey >= {where.p(q.rdata_ip.lo.hex())} AND rkey <= {where.p(q.rdata_ip.hi.hex())}")
    elif q.rdata_name is not None and q.rdata_name.kind == "prefix":
        lo, hi = q.rdata_name.key_range()
        where.add(f"rkind = {int(RKind.RDATA)} AND rkey >= {where.p(lo)} AND rkey < {where.p(hi)}")
        where.add(f"rrtype IN {where.p(tuple(sorted(NAME_TYPES)))}")
    elif q.rdata_name is not None:
        where.add(f"rkind = {int(RKind.TARGET)}")
        name_range(where, q.rdata_name, "rkey")
    elif q.rdata is not None:
        codes = q.types.codes or frozenset()
        if len(codes) == 1 and (code := next(iter(codes))) in rrtypes.IP_TYPES:
            key = ip_key(code, q.rdata)
            assert key is not None
            where.add(f"rkind = {int(RKind.IP)} AND rkey = {where.p(key.hex())}")
        else:
            where.add(f"rkind = {int(RKind.RDATA)} AND rkey = {where.p(q.rdata)}")
    return "rdx", group, group


_ORDER_KINDS = {"rrtype": int}


def record_select(db: str, q: RecordQuery, provs: Sequence[int] | None, limit: int) -> Select:
    """Per-RR records: ``rrname_rev rrtype rdata`` + ``STATS`` + the order columns; with ``provs``, the
    times and counts of those provenances only (the TTL range stays the record's)."""
    where = Where()
    table, group, order = _record_source(where, q, db)
    types_clause(where, q.types)
    name_col, rdata_col = "rrname_rev", group[-1]
    exprs = {"fwd": FORWARD}
    order_exprs = [exprs.get(c, c) for c in order]
    cursor(where, q.cursor, order_exprs, [_ORDER_KINDS.get(c, str) for c in order])
    having = Where()
    having.params = where.params  # one parameter namespace
    stats = STATS
    if provs is not None:
        mark = where.p(tuple(provs))
        stats = _filtered_stats(mark)
        having.add(f"countIf(prov IN {mark}) > 0")
        first, last = _filtered_window(mark)
    else:
        first, last = FIRST, LAST
    fences(having, q.fence, first, last)
    text = (
        f"SELECT {name_col}, rrtype, {rdata_col}, {stats}, {', '.join(order_exprs)} FROM {db}.{table} "
        f"{where.filters()} GROUP BY {', '.join(group)} HAVING {having.sql()} "
        f"ORDER BY {', '.join(order_exprs)} LIMIT {int(limit)} OFFSET {int(q.offset)}"
    )
    return Select(text, where.params, len(order), dict(POINT) if point(q) else {})


def _filtered_window(mark: str) -> tuple[str, str]:
    traffic = f"maxMergeIf(tl, prov IN {mark}) != {NONE_MAX}"
    return (
        f"if({traffic}, minMergeIf(tf, prov IN {mark}), minMergeIf(ztf, prov IN {mark}))",
        f"if({traffic}, maxMergeIf(tl, prov IN {mark}), maxMergeIf(ztl, prov IN {mark}))",
    )


def _filtered_stats(mark: str) -> str:
    first, last = _filtered_window(mark)
    inside = f"prov IN {mark}"
    return (
        f"{first}, {last}, sumMergeIf(nhi, {inside}), sumMergeIf(nlo, {inside}), minMerge(tmin), maxMerge(tmax), "
        f"minMergeIf(ztf, {inside}), maxMergeIf(ztl, {inside}), maxMergeIf(tl, {inside}) = {NONE_MAX}"
    )


def rrset_select(db: str, q: RecordQuery, limit: int) -> Select:
    """RRsets matching ``q.rrname``: ``rrname_rev rrtype bailiwick rdata`` + ``STATS`` + order columns."""
    if q.rrname is None:
        raise InvalidQuery("RRset lookups match on the owner name")
    where = Where()
    where.add(f"kind = {int(Kind.RRSET)}")
    group = ("rrname_rev", "rrtype", "k1", "k2")
    if q.rrname.kind == "prefix":
        where.add(f"endsWith(rrname_rev, {where.p('.' + reverse_name(q.rrname.name))})")
        order = [FORWARD, "rrtype", "k1", "k2"]
    else:
        name_range(where, q.rrname, "rrname_rev")
        order = list(group)
    types_clause(where, q.types)
    if q.bailiwick is not None:
        where.add(f"k1 = {where.p(q.bailiwick)}")
    cursor(where, q.cursor, order, [str, int, str, str])
    having = Where()
    having.params = where.params
    fences(having, q.fence, FIRST, LAST)
    text = (
        f"SELECT rrname_rev, rrtype, k1, k2, {STATS}, {', '.join(order)} FROM {db}.entry {where.filters()} "
        f"GROUP BY {', '.join(group)} HAVING {having.sql()} ORDER BY {', '.join(order)} "
        f"LIMIT {int(limit)} OFFSET {int(q.offset)}"
    )
    return Select(text, where.params, len(order), dict(POINT) if point(q) else {})


def grouped_select(db: str, kind: Kind, q: RecordQuery, provs: Sequence[int] | None, limit: int) -> Select:
    """Negative answers or bare queries: ``rrname_rev rrtype [rcode] first last nhi nlo`` + order columns."""
    if q.rrname is None and q.sample is None:
        raise InvalidQuery("negative and query lookups match on the owner name or a sample")
    where = Where()
    where.add(f"kind = {int(kind)}")
    group = ["rrname_rev", "rrtype"] + (["k1"] if kind == Kind.NEGATIVE else [])
    order = list(group)
    if q.rrname is not None and q.rrname.kind == "prefix":
        where.add(f"endsWith(rrname_rev, {where.p('.' + reverse_name(q.rrname.name))})")
        order[0] = FORWARD
    elif q.rrname is not None:
        name_range(where, q.rrname, "rrname_rev")
    else:
        rcode = "k1" if kind == Kind.NEGATIVE else "''"
        where.add(
            f"(rrname_rev, rrtype, {rcode}) IN (SELECT rrname_rev, rrtype, k1 FROM {db}.entry WHERE kind = "
            f"{int(Kind.NAME_SAMPLE)} AND startsWith(k2, {where.p(str(q.sample) + chr(9))}))",
            subquery=True,
        )
    types_clause(where, q.types)
    if provs is not None:
        where.add(f"prov IN {where.p(tuple(provs))}")
    cursor(where, q.cursor, order, [str, int, str][: len(order)])
    having = Where()
    having.params = where.params
    fences(having, q.fence, "minMerge(tf)", "maxMerge(tl)")
    text = (
        f"SELECT {', '.join(group)}, minMerge(tf), maxMerge(tl), sumMerge(nhi), sumMerge(nlo), {', '.join(order)} "
        f"FROM {db}.entry {where.filters()} GROUP BY {', '.join(group)} HAVING {having.sql()} "
        f"ORDER BY {', '.join(order)} LIMIT {int(limit)} OFFSET {int(q.offset)}"
    )
    return Select(text, where.params, len(order), dict(POINT) if point(q) else {})


def count(hi: Any, lo: Any) -> int:
    """A count from its two stored sums, saturated at the ceiling."""
    from yapdns.core.normalize import COUNT_CEILING

    return min((int(hi) << LO_BITS) + int(lo), COUNT_CEILING)
