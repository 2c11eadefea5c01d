"""The ``rr``/``rr_seen``/``rrset`` upserts of the SQLite writer, with its ``RowIdCache`` (``rowcache.py``).

The store's single writer thread remembers, per record ``(rrname, rrtype
code, rdata)``, the ``rr`` row id, an upper bound of its stored
``time_first`` and the row id of its one-RR RRset (no bailiwick). A record
seen again (most traffic) is then updated by row id: no probe of the
``(rrname_rev, rrtype, rdata)`` index, no join back for ``rr_seen``, and
``time_first`` (indexed by ``rr_first``) is left out of the ``UPDATE`` when
the new sighting cannot lower it, so that index is not rewritten. Records
not in the cache are upserted (``INSERT ... ON CONFLICT``) under ids given in
advance (``max(id) + 1 + i``; the writer holds the write lock): a new row
takes its id, so only the records that were stored already (a cold cache)
are looked up by key, through a TEMP table and a join.

Why the cache stays right is in ``rowcache.py`` (``INTEGER PRIMARY KEY``
ids survive ``VACUUM``). Only rows seen in traffic are cached, and their
``time_first`` only ever decreases, so a cached bound stays a bound. Rows
with zone-file times (``core/windows.py``) always take the upsert path:
its upserts implement the window rule (traffic replaces a zone-only window),
and a row that may still be zone-only never enters the cache, because its
``time_first`` rises when its first traffic sighting replaces the window.
"""

from __future__ import annotations

import sqlite3
from typing import Any, NamedTuple

from yapdns.storage.aggregate import (
    FoldedBatch,
    Stats,
    rr_insert_rows,
    rrset_insert_rows,
    saturating_add,
)
from yapdns.storage.sqlite.rowcache import CachedRow, RecordKey, RowIdCache, StaleRowIds, merged

_WINDOWS = (  # core.windows.combine in SQL
    "time_first = CASE WHEN zone_only = excluded.zone_only THEN min(time_first, excluded.time_first) "
    "WHEN zone_only THEN excluded.time_first ELSE time_first END, "
    "time_last = CASE WHEN zone_only = excluded.zone_only THEN max(time_last, excluded.time_last) "
    "WHEN zone_only THEN excluded.time_last ELSE time_last END, "
    "zone_time_first = coalesce(min(zone_time_first, excluded.zone_time_first), zone_time_first, "
    "excluded.zone_time_first), "
    "zone_time_last = coalesce(max(zone_time_last, excluded.zone_time_last), zone_time_last, excluded.zone_time_last), "
    "zone_only = zone_only AND excluded.zone_only"
)
_MERGE = _WINDOWS + f", count = {saturating_add('min', 'count', 'excluded.count')}"
_TTL = (
    "ttl_min = coalesce(min(ttl_min, {mn}), ttl_min, {mn}), ttl_max = coalesce(max(ttl_max, {mx}), ttl_max, {mx})"
)
MERGE_TTL = _MERGE + ", " + _TTL.format(mn="excluded.ttl_min", mx="excluded.ttl_max")
_BY_ID = f"time_last = max(time_last, ?2), count = {saturating_add('min', 'count', '?3')}, " + _TTL.format(
    mn="?4", mx="?5"
)
UPDATE_RR = f"UPDATE rr SET {_BY_ID} WHERE id = ?1"
UPDATE_RR_FIRST = f"UPDATE rr SET time_first = min(time_first, ?6), {_BY_ID} WHERE id = ?1"
UPDATE_RRSET = f"UPDATE rrset SET time_first = min(time_first, ?6), {_BY_ID} WHERE id = ?1"
_SEEN_COLS = "rr_id, prov, time_first, time_last, count, zone_time_first, zone_time_last, zone_only"
UPSERT_SEEN = (
    f"INSERT INTO rr_seen ({_SEEN_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rr_id, prov) "
    f"DO UPDATE SET {_MERGE}"
)
UPSERT_SEEN_PLAIN = (  # a sighting in traffic only: no zone-file times
    f"INSERT INTO rr_seen ({_SEEN_COLS}) VALUES (?, ?, ?, ?, ?, NULL, NULL, 0) ON CONFLICT (rr_id, prov) "
    f"DO UPDATE SET {_MERGE}"
)
_RR_COLS = "rrname_rev, rrname, rrtype, rdata, ip, target_rev"
_STATS_COLS = "time_first, time_last, count, ttl_min, ttl_max, zone_time_first, zone_time_last, zone_only"


class Upsert(NamedTuple):
    """The ``INSERT ... ON CONFLICT`` of new ``rr`` or ``rrset`` rows (ids given), in two forms: rows seen in
    traffic only leave the three zone columns to literals (binding them costs ~1 µs a row), rows with zone-file
    times bind every column."""

    table: str
    plain: str  # rows of ``width`` values: (id, key columns..., tf, tl, n, tmin, tmax)
    zoned: str  # rows of ``width + 3`` values: the same and (ztf, ztl, zone_only)
    width: int


def _upsert(table: str, cols: str, key: str) -> Upsert:
    width = 1 + len(cols.split(", ")) + 5  # id, the key columns, the five traffic stats
    head = f"INSERT INTO {table} (id, {cols}, {_STATS_COLS}) VALUES "
    tail = f" ON CONFLICT ({key}) DO UPDATE SET {MERGE_TTL}"
    plain = f"{head}({', '.join('?' * width)}, NULL, NULL, 0){tail}"
    return Upsert(table, plain, f"{head}({', '.join('?' * (width + 3))}){tail}", width)


INSERT_RR = _upsert("rr", _RR_COLS, "rrname_rev, rrtype, rdata")
INSERT_RRSET = _upsert("rrset", "rrname_rev, rrname, rrtype, bailiwick, rdata", "rrname_rev, rrtype, bailiwick, rdata")
STAGE_KEY = (
    "CREATE TEMP TABLE IF NOT EXISTS stage_key (i INTEGER PRIMARY KEY, rrname_rev TEXT, rrtype INTEGER, "
    "bailiwick TEXT, rdata TEXT)"
)
RR_KEY_JOIN = (
    "SELECT k.i, t.id FROM stage_key k JOIN rr t "
    "ON t.rrname_rev = k.rrname_rev AND t.rrtype = k.rrtype AND t.rdata = k.rdata"
)
RRSET_KEY_JOIN = (
    "SELECT k.i, t.id FROM stage_key k JOIN rrset t "
    "ON t.rrname_rev = k.rrname_rev AND t.rrtype = k.rrtype AND t.bailiwick = k.bailiwick AND t.rdata = k.rdata"
)


def upsert_rr(
    conn: sqlite3.Connection, folded: FoldedBatch, cache: RowIdCache, *, per_name: bool
) -> dict[tuple[str, int], int]:
    """Apply the RR rows of ``folded`` to ``rr`` and ``rr_seen``; return the rows it inserted per
    ``(rrname_rev, rrtype)`` (``per_name``), else per ``("", rrtype)``."""
    rows = cache.rows
    seen = _Seen()
    per_id: dict[int, tuple[Stats, CachedRow]] = {}
    misses: list[tuple[tuple[str, int, str, int], Stats]] = []
    plain = seen.plain
    for item in folded.rr.items():
        (name, code, rdata, prov), st = item
        cached = rows.get((name, code, rdata))
        if cached is None or len(st) > 5:  # not cached, or zone-file times: the upsert path
            misses.append(item)
            continue
        rid = cached.rr_id
        plain.append((rid, prov, st[0], st[1], st[2]))
        earlier = per_id.get(rid)
        # the record under several provenances: fold into a copy (the fold's lists stay as they are)
        per_id[rid] = (st, cached) if earlier is None else (merged(earlier[0], st), cached)
    if per_id:
        _update_by_id(conn, per_id)
    new: dict[tuple[str, int], int] = {}
    if misses:
        _upsert_misses(conn, misses, rows, new, per_name, seen)
    seen.write(conn)
    return new


class _Seen:
    """The ``rr_seen`` rows of one write: traffic-only rows bind five values, rows with zone-file times eight."""

    __slots__ = ("plain", "zoned")

    def __init__(self) -> None:
        self.plain: list[tuple[Any, ...]] = []  # (rr_id, prov, time_first, time_last, count)
        self.zoned: list[tuple[Any, ...]] = []  # the same and (zone_time_first, zone_time_last, zone_only)

    def add(self, rid: int, prov: int, st: Stats) -> None:
        if len(st) > 5:
            self.zoned.append((rid, prov, st[0], st[1], st[2], st[5], st[6], st[7]))
        else:
            self.plain.append((rid, prov, st[0], st[1], st[2]))

    def write(self, conn: sqlite3.Connection) -> None:
        conn.executemany(UPSERT_SEEN_PLAIN, self.plain)
        if self.zoned:
            conn.executemany(UPSERT_SEEN, self.zoned)


def _update_by_id(conn: sqlite3.Connection, per_id: dict[int, tuple[Stats, CachedRow]]) -> None:
    """``UPDATE rr`` by row id; ``time_first`` only where the new sighting may lower it."""
    plain: list[tuple[Any, ...]] = []
    lowered: list[tuple[Any, ...]] = []
    for rid, (st, cached) in per_id.items():
        first, last, count, ttl_min, ttl_max = st
        if first >= cached.first_bound:
            plain.append((rid, last, count, ttl_min, ttl_max))
        else:
            lowered.append((rid, last, count, ttl_min, ttl_max, first))
            cached.first_bound = first
    changed = conn.executemany(UPDATE_RR, plain).rowcount if plain else 0
    if lowered:
        changed += conn.executemany(UPDATE_RR_FIRST, lowered).rowcount
    if changed != len(per_id):
        raise StaleRowIds(f"rr: {changed} of {len(per_id)} cached rows found")


def _upsert_misses(
    conn: sqlite3.Connection,
    misses: list[tuple[tuple[str, int, str, int], Stats]],
    rows: dict[RecordKey, CachedRow],
    new: dict[tuple[str, int], int],
    per_name: bool,
    seen: _Seen,
) -> None:
    """Upsert records not in the cache under ids given in advance; cache their ids; count the inserted ones into
    ``new``; add their ``rr_seen`` rows to ``seen``.

    Each record (its provenances folded together by ``aggregate.merge``, the window rule) is upserted with the
    id ``max(id) + 1 + i``: a new record gets it, one already stored keeps its own and leaves a gap. The rows at
    or above the first id given are then the new ones; only the others are looked up by key.
    """
    records: dict[RecordKey, Stats] = {}
    for (name, code, rdata, _), st in misses:
        key = (name, code, rdata)
        earlier = records.get(key)
        records[key] = st if earlier is None else merged(earlier, st)  # the fold's lists stay as they are
    start = _next_id(conn, "rr")
    values = rr_insert_rows(records.items(), start)
    ids = _insert_with_ids(conn, INSERT_RR, values, start)
    _count_new(new, values, ids, per_name)
    if None in ids:
        _look_up(conn, RR_KEY_JOIN, ids, [(row[1], row[3], "", row[4]) for row in values])
    found = dict(zip(records, ids, strict=True))
    for (name, code, rdata, prov), st in misses:
        key = (name, code, rdata)
        rid = found[key]
        seen.add(rid, prov, st)  # type: ignore[arg-type]
        if len(st) > 5 and st[7]:
            continue  # seen only in zone files (so far): the row may be zone-only, which is never cached
        cached = rows.get(key)
        if cached is None:
            rows[key] = CachedRow(rid, st[0])  # type: ignore[arg-type]
        elif st[0] < cached.first_bound:
            cached.first_bound = st[0]


def _count_new(
    new: dict[tuple[str, int], int], values: list[tuple[Any, ...]], ids: list[int | None], per_name: bool
) -> None:
    """Add the rows inserted (``ids[i]`` not None) to ``new`` per ``(rrname_rev, rrtype)`` of ``values[i]``
    (``(id, rrname_rev, rrname, rrtype, ...)``) where ``per_name``, else per ``("", rrtype)``."""
    for row, rid in zip(values, ids, strict=True):
        if rid is not None:
            key = (row[1] if per_name else "", row[3])
            new[key] = new.get(key, 0) + 1


def _next_id(conn: sqlite3.Connection, table: str) -> int:
    """The first id to hand out: above every row of ``table`` (the writer holds the write lock: nothing else
    takes ids until COMMIT)."""
    return int(conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])


def _insert_with_ids(
    conn: sqlite3.Connection, upsert: Upsert, values: list[tuple[Any, ...]], start: int
) -> list[int | None]:
    """Run ``upsert`` over ``values``, whose ids are ``start + i``; return each row's id where it was inserted,
    None where it was merged into a stored row."""
    plain = [row for row in values if len(row) == upsert.width]
    conn.executemany(upsert.plain, plain)
    if len(plain) < len(values):
        conn.executemany(upsert.zoned, [row for row in values if len(row) != upsert.width])
    (n,) = conn.execute(f"SELECT count(*) FROM {upsert.table} WHERE id >= ?", (start,)).fetchone()
    if n == len(values):  # all new (a warm cache): no ids to read back
        every: list[int | None] = list(range(start, start + n))
        return every
    inserted = {rid for (rid,) in conn.execute(f"SELECT id FROM {upsert.table} WHERE id >= ?", (start,))}
    return [start + i if start + i in inserted else None for i in range(len(values))]


def _look_up(conn: sqlite3.Connection, join: str, ids: list[int | None], keys: list[tuple[Any, ...]]) -> None:
    """Fill in ``ids[i]`` for each None with the id of the row whose key is ``keys[i]``
    (``(rrname_rev, rrtype, bailiwick, rdata)``), through ``stage_key`` and ``join``."""
    conn.execute(STAGE_KEY)
    conn.execute("DELETE FROM stage_key")
    missing = [(i, *keys[i]) for i, v in enumerate(ids) if v is None]
    conn.executemany("INSERT INTO stage_key VALUES (?, ?, ?, ?, ?)", missing)
    for i, rid in conn.execute(join):
        ids[i] = rid
    if None in ids:
        raise StaleRowIds(f"{ids.count(None)} upserted rows not found by their key")


def upsert_rrset(
    conn: sqlite3.Connection, folded: FoldedBatch, cache: RowIdCache, *, per_name: bool
) -> dict[tuple[str, int], int]:
    """Apply the RRset rows of ``folded``: one-RR RRsets in the cache by row id, the rest upserted under ids
    given in advance; return the rows inserted per ``(rrname_rev, rrtype)`` (``per_name``), else per
    ``("", rrtype)``."""
    rows = cache.rows
    hits: list[tuple[Any, ...]] = []
    misses: list[tuple[tuple[str, int, str, str], Stats]] = []
    for item in folded.rrset.items():
        (name, code, bailiwick, rdata), st = item
        cached = None if bailiwick or "\n" in rdata or len(st) > 5 else rows.get((name, code, rdata))
        if cached is None or not cached.rrset_id:
            misses.append(item)
            continue
        first, last, count, ttl_min, ttl_max = st
        hits.append((cached.rrset_id, last, count, ttl_min, ttl_max, first))
    if hits:
        changed = conn.executemany(UPDATE_RRSET, hits).rowcount
        if changed != len(hits):
            raise StaleRowIds(f"rrset: {changed} of {len(hits)} cached rows found")
    new: dict[tuple[str, int], int] = {}
    if not misses:
        return new
    start = _next_id(conn, "rrset")
    values = rrset_insert_rows(misses, start)
    ids = _insert_with_ids(conn, INSERT_RRSET, values, start)
    _count_new(new, values, ids, per_name)
    cacheable = [i for i, ((_, _, bailiwick, rdata), _) in enumerate(misses) if not bailiwick and "\n" not in rdata]
    if any(ids[i] is None for i in cacheable):  # stored before: their ids, to cache
        keyed = [ids[i] for i in cacheable]
        _look_up(conn, RRSET_KEY_JOIN, keyed, [(values[i][1], *values[i][3:6]) for i in cacheable])
        for i, sid in zip(cacheable, keyed, strict=True):
            ids[i] = sid
    for i in cacheable:
        (name, code, _, rdata), st = misses[i]
        cached = rows.get((name, code, rdata))
        if cached is not None and not (len(st) > 5 and st[7]):  # a possibly zone-only RRset is never cached
            cached.rrset_id = ids[i]  # type: ignore[assignment]
    return new
