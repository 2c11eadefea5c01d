"""The ``rr``/``rr_seen``/``rrset`` upserts of the SQLite writer, with its ``RowIdCache`` (``rowcache.py``).

The store's single writer thread remembers, per record ``(rrname, rrtype
code, rdata)``, the ``rr`` row id, an upper bound of its stored
``time_first`` and the row id of its one-RR RRset (no bailiwick). A record
seen again (most traffic) is then updated by row id: no probe of the
``(rrname_rev, rrtype, rdata)`` index, no join back for ``rr_seen``, and
``time_first`` (indexed by ``rr_first``) is left out of the ``UPDATE`` when
the new sighting cannot lower it, so that index is not rewritten. Records
not in the cache go through a TEMP staging table and an ``INSERT ... SELECT
... ON CONFLICT`` upsert, and their ids are read back into the cache.

Why the cache stays right is in ``rowcache.py`` (``INTEGER PRIMARY KEY``
ids survive ``VACUUM``). Only rows seen in traffic are cached, and their
``time_first`` only ever decreases, so a cached bound stays a bound. Rows
with zone-file times (``core/windows.py``) always take the staging path:
its upserts implement the window rule (traffic replaces a zone-only window),
and a row that may still be zone-only never enters the cache, because its
``time_first`` rises when its first traffic sighting replaces the window.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from yapdns.storage.aggregate import FoldedBatch, Stats, saturating_add, stage_rr_rows, stage_rrset_rows, with_zone
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
UPSERT_SEEN = (
    "INSERT INTO rr_seen (rr_id, prov, time_first, time_last, count, zone_time_first, zone_time_last, zone_only) "
    f"VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rr_id, prov) DO UPDATE SET {_MERGE}"
)
_ZONE_COLS = "ztf INTEGER, ztl INTEGER, zo INTEGER"
STAGE_RR = (
    "CREATE TEMP TABLE IF NOT EXISTS stage_rr (rrname_rev TEXT, rrname TEXT, rrtype INTEGER, rdata TEXT, "
    "ip BLOB, target_rev TEXT, prov INTEGER, tf INTEGER, tl INTEGER, n INTEGER, tmin INTEGER, tmax INTEGER, "
    f"{_ZONE_COLS}, i INTEGER PRIMARY KEY)"
)
STAGE_RRSET = (
    "CREATE TEMP TABLE IF NOT EXISTS stage_rrset (rrname_rev TEXT, rrname TEXT, rrtype INTEGER, bailiwick TEXT, "
    f"rdata TEXT, tf INTEGER, tl INTEGER, n INTEGER, tmin INTEGER, tmax INTEGER, {_ZONE_COLS}, i INTEGER PRIMARY KEY)"
)
_RR_COLS = "rrname_rev, rrname, rrtype, rdata, ip, target_rev"
_STATS_COLS = "time_first, time_last, count, ttl_min, ttl_max, zone_time_first, zone_time_last, zone_only"
_GROUPED_STATS = (  # several provenances of one record: the traffic hull if any, else the zone hull
    "coalesce(min(CASE WHEN zo THEN NULL ELSE tf END), min(tf)), "
    "coalesce(max(CASE WHEN zo THEN NULL ELSE tl END), max(tl)), yapdns_count_sum(n), min(tmin), max(tmax), "
    "min(ztf), max(ztl), min(zo)"
)
_RR_JOIN = "rr.rrname_rev = s.rrname_rev AND rr.rrtype = s.rrtype AND rr.rdata = s.rdata"


def upsert_rr(conn: sqlite3.Connection, folded: FoldedBatch, cache: RowIdCache) -> None:
    """Apply the RR rows of ``folded`` to ``rr`` and ``rr_seen``."""
    rows = cache.rows
    seen: list[tuple[Any, ...]] = []
    per_id: dict[int, tuple[Stats, CachedRow]] = {}
    misses: list[tuple[tuple[str, int, str, int], Stats]] = []
    for item in folded.rr.items():
        (name, code, rdata, prov), st = item
        cached = rows.get((name, code, rdata))
        if cached is None or len(st) > 5:  # not cached, or zone-file times: the staging path
            misses.append(item)
            continue
        rid = cached.rr_id
        first, last, count, _, _ = st
        seen.append((rid, prov, first, last, count, None, None, False))
        if rid in per_id:  # the record under several provenances: fold into a copy (the fold's lists stay)
            earlier, _ = per_id[rid]
            st = merged(earlier, st)
        per_id[rid] = (st, cached)
    if per_id:
        _update_by_id(conn, per_id)
    if misses:
        seen.extend(_upsert_misses(conn, misses, folded.single_prov, rows))
    conn.executemany(UPSERT_SEEN, seen)


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
    single_prov: bool,
    rows: dict[RecordKey, CachedRow],
) -> list[tuple[Any, ...]]:
    """Upsert records not in the cache through ``stage_rr``; cache their ids; return their ``rr_seen`` rows."""
    conn.execute(STAGE_RR)
    conn.execute("DELETE FROM stage_rr")
    conn.executemany(
        "INSERT INTO stage_rr VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(*row, i) for i, row in enumerate(stage_rr_rows(misses))],
    )
    source = (
        f"SELECT {_RR_COLS}, tf, tl, n, tmin, tmax, ztf, ztl, zo FROM stage_rr WHERE true"
        if single_prov
        else f"SELECT {_RR_COLS}, {_GROUPED_STATS} FROM stage_rr GROUP BY rrname_rev, rrtype, rdata"
    )
    conn.execute(
        f"INSERT INTO rr ({_RR_COLS}, {_STATS_COLS}) {source} "
        f"ON CONFLICT (rrname_rev, rrtype, rdata) DO UPDATE SET {MERGE_TTL}"
    )
    seen = []
    for i, rid in conn.execute(f"SELECT s.i, rr.id FROM stage_rr s JOIN rr ON {_RR_JOIN}"):
        (name, code, rdata, prov), st = misses[i]
        z = with_zone(st)
        seen.append((rid, prov, z[0], z[1], z[2], z[5], z[6], z[7]))
        if len(st) > 5 and st[7]:
            continue  # seen only in zone files (so far): the row may be zone-only, which is never cached
        cached = rows.get((name, code, rdata))
        if cached is None:
            rows[(name, code, rdata)] = CachedRow(rid, st[0])
        elif st[0] < cached.first_bound:
            cached.first_bound = st[0]
    if len(seen) != len(misses):
        raise StaleRowIds(f"rr: {len(seen)} of {len(misses)} staged rows found after the upsert")
    return seen


def upsert_rrset(conn: sqlite3.Connection, folded: FoldedBatch, cache: RowIdCache) -> None:
    """Apply the RRset rows of ``folded``: one-RR RRsets in the cache by row id, the rest through ``stage_rrset``."""
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
    if not misses:
        return
    conn.execute(STAGE_RRSET)
    conn.execute("DELETE FROM stage_rrset")
    conn.executemany(
        "INSERT INTO stage_rrset VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(*row, i) for i, row in enumerate(stage_rrset_rows(misses))],
    )
    conn.execute(
        f"INSERT INTO rrset (rrname_rev, rrname, rrtype, bailiwick, rdata, {_STATS_COLS}) "
        "SELECT rrname_rev, rrname, rrtype, bailiwick, rdata, tf, tl, n, tmin, tmax, ztf, ztl, zo FROM stage_rrset "
        f"WHERE true ON CONFLICT (rrname_rev, rrtype, bailiwick, rdata) DO UPDATE SET {MERGE_TTL}"
    )
    found = conn.execute(
        "SELECT s.i, t.id FROM stage_rrset s JOIN rrset t ON t.rrname_rev = s.rrname_rev AND t.rrtype = s.rrtype "
        "AND t.bailiwick = s.bailiwick AND t.rdata = s.rdata WHERE s.bailiwick = '' AND instr(s.rdata, char(10)) = 0"
    )
    for i, sid in found:
        (name, code, _, rdata), st = misses[i]
        cached = rows.get((name, code, rdata))
        if cached is not None and not (len(st) > 5 and st[7]):  # a possibly zone-only RRset is never cached
            cached.rrset_id = sid
