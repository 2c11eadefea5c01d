"""Dialect-neutral SELECTs for the record store's query shapes.

Both SQL backends share one schema layout (see their migrations) and these
builders, so a query shape behaves the same on SQLite and PostgreSQL. Every
value travels as a bound parameter; only identifiers chosen here are
interpolated. Portability rules kept here: row-value comparisons for cursors,
``CAST(sum(..) AS BIGINT)`` (PostgreSQL's ``sum(bigint)`` is numeric), and
byte-order text comparison (PostgreSQL columns are ``COLLATE "C"``).

Each key has an index and an order that index yields, so a first page is a
short range scan even on a large store:

=================  ===============================  ==========================
key                condition                        order (= cursor)
=================  ===============================  ==========================
rrname exact       ``rrname_rev = k``               rrname_rev, rrtype, rdata
rrname ``*.x``     ``k < rrname_rev < k'``          rrname_rev, rrtype, rdata
rrname ``x.*``     ``k <= rrname < k'``             rrname, id
rdata IP/CIDR      ``lo <= ip <= hi``               ip, id
rdata name         ``target_rev`` exact or range    target_rev, id
rdata ``x.*``      ``rdata`` range, name types      rdata, id
rdata exact        ``rdata = v``                    id
sample             ``id IN rr_sample(sha256)``      id
=================  ===============================  ==========================
"""



from __future__ import annotations

from collections.abc import Sequence

import msgspec

from yapdns.core import rrtypes
from yapdns.core.errors import InvalidQuery
from yapdns.core.names import reverse_name
from yapdns.core.rdata import NAME_TYPES, ip_key
from yapdns.core.rrtypes import rrtype_code
from yapdns.storage.query import NameMatch, RecordQuery, TimeFence, TypeFilter, decode_cursor


class Sql(msgspec.Struct, frozen=True):
    """A statement, its parameters, and how many trailing columns form the cursor."""

    text: str
    params: tuple[object, ...]
    order_width: int


class Dialect:
    """Placeholder style and the saturating count sum; everything else in these statements is portable SQL."""

    def __init__(self, placeholder: str, count_sum: str) -> None:
        self.ph = placeholder
        self._count_sum = count_sum

    def marks(self, n: int) -> str:
        return ", ".join([self.ph] * n)

    def count_sum(self, expr: str) -> str:
        """``sum(expr)`` saturated at ``COUNT_CEILING`` as a BIGINT: stored counts are each at most the ceiling,
        so a plain sum of several overflows (SQLite raises, PostgreSQL's cast to bigint fails)."""
        return self._count_sum.format(expr)


class _Where:
    """AND-ed clauses with their parameters. A key's lower bound is marked so that a cursor can raise it:
    engines start the index range at the explicit bound ``a >= lo`` and only filter by the row value
    ``(a, b) > (x, y)``, so without raising the bound to ``x`` every page would scan from ``lo`` (quadratic deep
    paging). Raising, not replacing, keeps a forged cursor from escaping the key's range."""

    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        self.clauses: list[tuple[str, tuple[object, ...], bool]] = []

    def add(self, clause: str, *params: object, lower_bound: bool = False) -> None:
        self.clauses.append((clause.replace("?", self.d.ph), params, lower_bound))

    def raise_lower_bounds(self, value: object) -> None:
        self.clauses = [
            (clause.replace(" > ", " >= "), (value,), lower) if lower and _above(value, params[0]) else
            (clause, params, lower)
            for clause, params, lower in self.clauses
        ]

    @property
    def params(self) -> list[object]:
        return [p for _, params, _ in self.clauses for p in params]

    def sql(self) -> str:
        return " AND ".join(c for c, _, _ in self.clauses) if self.clauses else "1=1"


def _above(value: object, bound: object) -> bool:
    """``value > bound`` for two keys of the same kind (a forged cursor of another kind is ignored)."""
    if isinstance(value, str) and isinstance(bound, str):
        return value > bound
    if isinstance(value, bytes) and isinstance(bound, bytes):
        return value > bound
    return False


def _name_key(where: _Where, match: NameMatch, rev_col: str, fwd_col: str) -> tuple[str, ...]:
    lo, hi = match.key_range()
    if match.kind == "exact":
        where.add(f"{rev_col} = ?", lo)
    elif match.kind == "suffix":
        where.add(f"{rev_col} > ?", lo, lower_bound=True)
        where.add(f"{rev_col} < ?", hi)
    else:
        where.add(f"{fwd_col} >= ?", lo, lower_bound=True)
        where.add(f"{fwd_col} < ?", hi)
    return (fwd_col,) if match.kind == "prefix" else (rev_col,)


def _types(where: _Where, types: TypeFilter, col: str) -> None:
    if types.codes is not None:
        codes = sorted(types.codes)
        where.add(f"{col} IN ({', '.join('?' * len(codes))})", *codes)
    if types.dnssec is not None:
        codes = sorted(rrtypes.DNSSEC_TYPES)
        neg = "" if types.dnssec else "NOT "
        where.add(f"{col} {neg}IN ({', '.join('?' * len(codes))})", *codes)


def _fences(where: _Where, fence: TimeFence, first: str, last: str) -> None:
    """DNSDB's four fences on a row's window: its traffic times, or its zone times when seen only in zone files
    (what dnsdb2's own tests check: ``res.get('time_first', res.get('zone_time_first'))``)."""
    for value, clause in (
        (fence.first_before, f"{first} <= ?"),
        (fence.first_after, f"{first} >= ?"),
        (fence.last_before, f"{last} <= ?"),
        (fence.last_after, f"{last} >= ?"),
    ):
        if value is not None:
            where.add(clause, value)


def _cursor(where: _Where, cursor: str | None, order: Sequence[str], pinned: bool = False) -> None:
    if cursor is None:
        return
    values = decode_cursor(cursor)
    if len(values) != len(order) or not all(_fits(col, v) for col, v in zip(order, values, strict=True)):
        raise InvalidQuery("invalid cursor: it does not belong to this query")
    where.raise_lower_bounds(values[0])
    if pinned and len(order) > 1:  # the key fixes the leading column: the range continues on the next one
        where.add(f"{order[1]} >= ?", values[1])
    where.add(f"({', '.join(order)}) > ({', '.join('?' * len(order))})", *values)


def _fits(column: str, value: object) -> bool:
    """Whether a cursor value has its ordering column's type (ids and types integers, ``ip`` 16 bytes, texts)."""
    name = column.rsplit(".", 1)[-1]
    if name in ("id", "rrtype"):
        return type(value) is int and 0 <= value < 2**63
    if name == "ip":
        return type(value) is bytes and len(value) == 16
    return type(value) is str


def _pinned(q: RecordQuery) -> bool:
    """Whether the query's key fixes the leading ordering column to one value (an exact match)."""
    if q.rrname is not None:
        return q.rrname.kind == "exact"
    if q.rdata_ip is not None:
        return q.rdata_ip.is_single
    if q.rdata_name is not None:
        return q.rdata_name.kind == "exact"
    codes = q.types.codes or frozenset()
    return q.rdata is not None and len(codes) == 1 and next(iter(codes)) in rrtypes.IP_TYPES


# The windows of several provenance rows ``s`` together (core.windows.combine): the traffic hull when any row
# saw traffic, else the zone hull (a zone-only row's time_first/time_last are its zone times).
TRAFFIC_FIRST = "min(CASE WHEN s.zone_only THEN NULL ELSE s.time_first END)"
TRAFFIC_LAST = "max(CASE WHEN s.zone_only THEN NULL ELSE s.time_last END)"


def windows_of_rows(count_sum: str | None = None) -> str:
    """``time_first, time_last[, count], zone_time_first, zone_time_last, zone_only`` aggregated over rows ``s``;
    the count column is ``count_sum`` (the dialect's saturating sum of ``s.count``) when given."""
    total = f"{count_sum}, " if count_sum else ""
    return (
        f"coalesce({TRAFFIC_FIRST}, min(s.time_first)), coalesce({TRAFFIC_LAST}, max(s.time_last)), {total}"
        f"min(s.zone_time_first), max(s.zone_time_last), CASE WHEN {TRAFFIC_FIRST} IS NULL THEN 1 ELSE 0 END"
    )


def _prov_subqueries(provs: Sequence[int], d: Dialect) -> tuple[str, tuple[object, ...]]:
    inner = f"FROM rr_seen s WHERE s.rr_id = rr.id AND s.prov IN ({d.marks(len(provs))})"
    cols = (
        f"(SELECT {TRAFFIC_FIRST} {inner}) AS ttf, (SELECT {TRAFFIC_LAST} {inner}) AS ttl_, "
        f"(SELECT min(s.zone_time_first) {inner}) AS ztf, (SELECT max(s.zone_time_last) {inner}) AS ztl, "
        f"(SELECT {d.count_sum('s.count')} {inner}) AS n"
    )
    return cols, tuple(provs) * 5


def _record_key(where: _Where, q: RecordQuery) -> tuple[str, ...]:
    if q.rrname is not None:
        col = _name_key(where, q.rrname, "rr.rrname_rev", "rr.rrname")
        return ("rr.rrname", "rr.id") if col == ("rr.rrname",) else ("rr.rrname_rev", "rr.rrtype", "rr.rdata")
    if q.rdata_ip is not None:
        if q.rdata_ip.is_single:  # an equality lets the index range continue on id for cursor pages
            where.add("rr.ip = ?", q.rdata_ip.lo)
        else:
            where.add("rr.ip >= ?", q.rdata_ip.lo, lower_bound=True)
            where.add("rr.ip <= ?", q.rdata_ip.hi)
        return ("rr.ip", "rr.id")
    if q.rdata_name is not None:
        return _rdata_name_key(where, q.rdata_name)
    if q.rdata is not None:
        return _rdata_exact_key(where, q)
    if q.sample is None:  # the address context filter alone: every address, in key order
        where.add("rr.ip IS NOT NULL")
        return ("rr.ip", "rr.id")
    where.add("rr.id IN (SELECT rr_id FROM rr_sample WHERE sha256 = ?)", q.sample)
    return ("rr.id",)


def _rdata_name_key(where: _Where, match: NameMatch) -> tuple[str, ...]:
    if match.kind == "prefix":
        lo, hi = match.key_range()
        where.add("rr.rdata >= ?", lo, lower_bound=True)
        where.add("rr.rdata < ? AND rr.ip IS NULL", hi)
        codes = sorted(NAME_TYPES)
        where.add(f"rr.rrtype IN ({', '.join('?' * len(codes))})", *codes)
        return ("rr.rdata", "rr.id")
    _name_key(where, match, "rr.target_rev", "rr.target_rev")
    return ("rr.target_rev", "rr.id")


def _rdata_exact_key(where: _Where, q: RecordQuery) -> tuple[str, ...]:
    assert q.rdata is not None
    codes = q.types.codes or frozenset()
    if len(codes) == 1 and (code := next(iter(codes))) in rrtypes.IP_TYPES:
        where.add("rr.ip = ?", ip_key(code, q.rdata))
        return ("rr.ip", "rr.id")
    where.add("rr.rdata = ? AND rr.ip IS NULL", q.rdata)
    return ("rr.id",)


def record_select(d: Dialect, q: RecordQuery, provs: Sequence[int] | None, limit: int) -> Sql:
    """Per-RR records; with ``provs`` the times and counts are those of these provenances only."""
    where = _Where(d)
    order = _record_key(where, q)
    if q.context is not None:
        clause, params = q.context.clause()
        where.add(clause, *params)
    _types(where, q.types, "rr.rrtype")
    _cursor(where, q.cursor, order, _pinned(q))
    aliases = [f"o{i}" for i in range(len(order))]
    order_cols = ", ".join(f"{c} AS {a}" for c, a in zip(order, aliases, strict=True))
    if provs is None:
        _fences(where, q.fence, "rr.time_first", "rr.time_last")
        text = (
            "SELECT rr.rrname, rr.rrtype, rr.rdata, rr.time_first, rr.time_last, rr.count, "
            f"rr.ttl_min, rr.ttl_max, rr.zone_time_first, rr.zone_time_last, rr.zone_only, {order_cols} "
            f"FROM rr WHERE {where.sql()} ORDER BY {', '.join(order)} LIMIT {int(limit)} OFFSET {int(q.offset)}"
        )
        return Sql(text, tuple(where.params), len(order))
    prov_cols, prov_params = _prov_subqueries(provs, d)
    outer = _Where(d)
    outer.add("x.n IS NOT NULL")
    _fences(outer, q.fence, "coalesce(x.ttf, x.ztf)", "coalesce(x.ttl_, x.ztl)")
    text = (
        "SELECT x.rrname, x.rrtype, x.rdata, coalesce(x.ttf, x.ztf), coalesce(x.ttl_, x.ztl), x.n, x.ttl_min, "
        "x.ttl_max, x.ztf, x.ztl, CASE WHEN x.ttf IS NULL THEN 1 ELSE 0 END, "
        f"{', '.join('x.' + a for a in aliases)} FROM (SELECT rr.rrname, rr.rrtype, rr.rdata, "
        f"rr.ttl_min, rr.ttl_max, {prov_cols}, {order_cols} FROM rr WHERE {where.sql()}) AS x "
        f"WHERE {outer.sql()} ORDER BY {', '.join('x.' + a for a in aliases)} "
        f"LIMIT {int(limit)} OFFSET {int(q.offset)}"
    )
    return Sql(text, prov_params + tuple(where.params) + tuple(outer.params), len(order))


def rrset_select(d: Dialect, q: RecordQuery, limit: int) -> Sql:
    """RRset records matching ``q.rrname`` (sensor filters do not apply to RRsets)."""
    if q.rrname is None:
        raise InvalidQuery("RRset lookups match on the owner name")
    where = _Where(d)
    col = _name_key(where, q.rrname, "s.rrname_rev", "s.rrname")
    order = ("s.rrname", "s.id") if col == ("s.rrname",) else ("s.rrname_rev", "s.rrtype", "s.bailiwick", "s.rdata")
    _types(where, q.types, "s.rrtype")
    if q.bailiwick is not None:
        where.add("s.bailiwick = ?", q.bailiwick)
    _fences(where, q.fence, "s.time_first", "s.time_last")
    _cursor(where, q.cursor, order, q.rrname.kind == "exact")
    text = (
        "SELECT s.rrname, s.rrtype, s.bailiwick, s.rdata, s.time_first, s.time_last, s.count, "
        f"s.ttl_min, s.ttl_max, s.zone_time_first, s.zone_time_last, s.zone_only, {', '.join(order)} "
        f"FROM rrset s WHERE {where.sql()} "
        f"ORDER BY {', '.join(order)} LIMIT {int(limit)} OFFSET {int(q.offset)}"
    )
    return Sql(text, tuple(where.params), len(order))


def grouped_select(d: Dialect, table: str, q: RecordQuery, provs: Sequence[int] | None, limit: int) -> Sql:
    """Negative (``table='negative'``) or bare-query (``'qname'``) records, summed over provenances.

    The key is the owner name, or a sandbox sample (the names its analyses asked for, from ``name_sample``).
    """
    if q.rrname is None and q.sample is None:
        raise InvalidQuery("negative and query lookups match on the owner name or a sample")
    extra = ", t.rcode" if table == "negative" else ""
    where = _Where(d)
    if q.rrname is not None:
        col = _name_key(where, q.rrname, "t.rrname_rev", "t.rrname")
    else:
        col = ("t.rrname_rev",)
        linked = "(t.rrname_rev, t.rrtype, t.rcode)" if extra else "(t.rrname_rev, t.rrtype, '')"
        where.add(f"{linked} IN (SELECT rrname_rev, rrtype, rcode FROM name_sample WHERE sha256 = ?)", q.sample)
    order = (*col, "t.rrtype") + (("t.rcode",) if extra else ())
    _types(where, q.types, "t.rrtype")
    if provs is not None:
        where.add(f"t.prov IN ({', '.join('?' * len(provs))})", *provs)
    _cursor(where, q.cursor, order, q.rrname is not None and q.rrname.kind == "exact")
    having = _Where(d)
    _fences(having, q.fence, "min(t.time_first)", "max(t.time_last)")
    text = (
        f"SELECT t.rrname, t.rrtype{extra}, min(t.time_first), max(t.time_last), {d.count_sum('t.count')}, "
        f"{', '.join(order)} FROM {table} t WHERE {where.sql()} "
        f"GROUP BY t.rrname_rev, t.rrname, t.rrtype{extra} HAVING {having.sql()} "
        f"ORDER BY {', '.join(order)} LIMIT {int(limit)} OFFSET {int(q.offset)}"
    )
    return Sql(text, tuple(where.params) + tuple(having.params), len(order))


def record_key_params(rrname: str, rrtype: str, rdata: str) -> tuple[str, int, str]:
    """The unique key of one RR row."""
    return reverse_name(rrname), rrtype_code(rrtype), rdata
