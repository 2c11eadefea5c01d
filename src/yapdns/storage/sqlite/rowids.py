"""``RowIdCache`` and the ``rr``/``rr_seen``/``rrset`` upserts of the SQLite writer that use it.

The store's single writer thread remembers, per record ``(rrname, rrtype
code, rdata)``, the ``rr`` row id, an upper bound of its stored
``time_first`` and the row id of its one-RR RRset (no bailiwick). A record
seen again (most traffic) is then updated by row id: no probe of the
``(rrname_rev, rrtype, rdata)`` index, no join back for ``rr_seen``, and
``time_first`` (indexed by ``rr_first``) is left out of the ``UPDATE`` when
the new sighting cannot lower it, so that index is not rewritten. Records
not in the cache go through a TEMP staging table and an ``INSERT ... SELECT
... ON CONFLICT`` upsert, and their ids are read back into the cache.

Why the cache stays right: ``rr`` and ``rrset`` rows are never deleted and
their ids never change (``INTEGER PRIMARY KEY`` survives ``VACUUM``), so an
id read from a committed row stays valid, also when other processes write
the same file; ``time_first`` only ever decreases, so a bound stays a bound.
The cache is cleared whenever a transaction rolls back (ids of rows it
inserted are gone) and when it outgrows its limit. As a last guard, an
``UPDATE`` by id that changes fewer rows than it was given raises
``StaleRowIds``, so the group rolls back instead of losing counts.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from yapdns.core.errors import StoreError
from yapdns.storage.aggregate import FoldedBatch, Stats, stage_rr_rows, stage_rrset_rows

CACHE_LIMIT = 2_000_000

RecordKey = tuple[str, int, str]

_MERGE = (
    "time_first = min(time_first, excluded.time_first), "
    "time_last = max(time_last, excluded.time_last), count = count + excluded.count"
)
_TTL = (
    "ttl_min = coalesce(min(ttl_min, {mn}), ttl_min, {mn}), ttl_max = coalesce(max(ttl_max, {mx}), ttl_max, {mx})"
)
MERGE_TTL = _MERGE + ", " + _TTL.format(mn="excluded.ttl_min", mx="excluded.ttl_max")
_BY_ID = "time_last = max(time_last, ?2), count = count + ?3, " + _TTL.format(mn="?4", mx="?5")
UPDATE_RR = f"UPDATE rr SET {_BY_ID} WHERE id = ?1"
UPDATE_RR_FIRST = f"UPDATE rr SET time_first = min(time_first, ?6), {_BY_ID} WHERE id = ?1"
UPDATE_RRSET = f"UPDATE rrset SET time_first = min(time_first, ?6), {_BY_ID} WHERE id = ?1"
UPSERT_SEEN = (
    "INSERT INTO rr_seen (rr_id, prov, time_first, time_last, count) VALUES (?, ?, ?, ?, ?) "
    f"ON CONFLICT (rr_id, prov) DO UPDATE SET {_MERGE}"
)
STAGE_RR = (
    "CREATE TEMP TABLE IF NOT EXISTS stage_rr (rrname_rev TEXT, rrname TEXT, rrtype INTEGER, rdata TEXT, "
    "ip BLOB, target_rev TEXT, prov INTEGER, tf INTEGER, tl INTEGER, n INTEGER, tmin INTEGER, tmax INTEGER, "
    "i INTEGER PRIMARY KEY)"
)
STAGE_RRSET = (
    "CREATE TEMP TABLE IF NOT EXISTS stage_rrset (rrname_rev TEXT, rrname TEXT, rrtype INTEGER, bailiwick TEXT, "
    "rdata TEXT, tf INTEGER, tl INTEGER, n INTEGER, tmin INTEGER, tmax INTEGER, i INTEGER PRIMARY KEY)"
)
_RR_COLS = "rrname_rev, rrname, rrtype, rdata, ip, target_rev"
_RR_JOIN = "rr.rrname_rev = s.rrname_rev AND rr.rrtype = s.rrtype AND rr.rdata = s.rdata"


class StaleRowIds(StoreError):
    """An ``UPDATE`` by a cached row id found no row: the cache no longer matches the file."""


class RowIdCache:
    """``(rrname, rrtype code, rdata)`` → ``[rr id, time_first bound, one-RR rrset id or 0]``."""

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self.limit = limit
        self.rows: dict[RecordKey, list[int]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.rows.clear()

    def trim(self) -> None:
        """Start over when the cache outgrew its limit (hot records come back within a group)."""
        if len(self.rows) > self.limit:
            self.rows.clear()


def upsert_rr(conn: sqlite3.Connection, folded: FoldedBatch, cache: RowIdCache) -> None:
    """Apply the RR rows of ``folded`` to ``rr`` and ``rr_seen``."""
    rows = cache.rows
    seen: list[tuple[Any, ...]] = []
    merged: dict[int, list[Any]] = {}
    misses: list[tuple[tuple[str, int, str, int], Stats]] = []
    for item in folded.rr.items():
        (name, code, rdata, prov), st = item
        entry = rows.get((name, code, rdata))
        if entry is None:
            misses.append(item)
            continue
        rid = entry[0]
        seen.append((rid, prov, st[0], st[1], st[2]))
        cur = merged.get(rid)
        if cur is None:
            merged[rid] = [st, entry]
        else:  # the record under several provenances: fold into a copy (the fold's lists stay as they are)
            cur[0] = _merged(cur[0], st)
    if merged:
        _update_by_id(conn, merged)
    if misses:
        seen.extend(_upsert_misses(conn, misses, folded.single_prov, rows))
    conn.executemany(UPSERT_SEEN, seen)


def _merged(a: Stats, b: Stats) -> Stats:
    """Stats ``a`` and ``b`` folded into a new list (min/max/sum, TTL bounds ignoring None)."""
    out = list(a)
    if b[0] < out[0]:  # noqa: PLR1730 (faster than min/max here)
        out[0] = b[0]
    if b[1] > out[1]:  # noqa: PLR1730
        out[1] = b[1]
    out[2] += b[2]
    if b[3] is not None and (out[3] is None or b[3] < out[3]):
        out[3] = b[3]
    if b[4] is not None and (out[4] is None or b[4] > out[4]):
        out[4] = b[4]
    return out


def _update_by_id(conn: sqlite3.Connection, merged: dict[int, list[Any]]) -> None:
    """``UPDATE rr`` by row id; ``time_first`` only where the new sighting may lower it."""
    plain: list[tuple[Any, ...]] = []
    first: list[tuple[Any, ...]] = []
    for rid, (st, entry) in merged.items():
        if st[0] >= entry[1]:
            plain.append((rid, st[1], st[2], st[3], st[4]))
        else:
            first.append((rid, st[1], st[2], st[3], st[4], st[0]))
            entry[1] = st[0]
    changed = conn.executemany(UPDATE_RR, plain).rowcount if plain else 0
    if first:
        changed += conn.executemany(UPDATE_RR_FIRST, first).rowcount
    if changed != len(merged):
        raise StaleRowIds(f"rr: {changed} of {len(merged)} cached rows found")


def _upsert_misses(
    conn: sqlite3.Connection,
    misses: list[tuple[tuple[str, int, str, int], Stats]],
    single_prov: bool,
    rows: dict[RecordKey, list[int]],
) -> list[tuple[Any, ...]]:
    """Upsert records not in the cache through ``stage_rr``; cache their ids; return their ``rr_seen`` rows."""
    conn.execute(STAGE_RR)
    conn.execute("DELETE FROM stage_rr")
    conn.executemany(
        "INSERT INTO stage_rr VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(*row, i) for i, row in enumerate(stage_rr_rows(misses))],
    )
    source = (
        f"SELECT {_RR_COLS}, tf, tl, n, tmin, tmax FROM stage_rr WHERE true"
        if single_prov
        else f"SELECT {_RR_COLS}, min(tf), max(tl), sum(n), min(tmin), max(tmax) FROM stage_rr "
        "GROUP BY rrname_rev, rrtype, rdata"
    )
    conn.execute(
        f"INSERT INTO rr ({_RR_COLS}, time_first, time_last, count, ttl_min, ttl_max) {source} "
        f"ON CONFLICT (rrname_rev, rrtype, rdata) DO UPDATE SET {MERGE_TTL}"
    )
    seen = []
    for i, rid in conn.execute(f"SELECT s.i, rr.id FROM stage_rr s JOIN rr ON {_RR_JOIN}"):
        (name, code, rdata, prov), st = misses[i]
        seen.append((rid, prov, st[0], st[1], st[2]))
        entry = rows.get((name, code, rdata))
        if entry is None:
            rows[(name, code, rdata)] = [rid, st[0], 0]
        elif st[0] < entry[1]:
            entry[1] = st[0]
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
        entry = None if bailiwick or "\n" in rdata else rows.get((name, code, rdata))
        if entry is None or not entry[2]:
            misses.append(item)
            continue
        hits.append((entry[2], st[1], st[2], st[3], st[4], st[0]))
    if hits:
        changed = conn.executemany(UPDATE_RRSET, hits).rowcount
        if changed != len(hits):
            raise StaleRowIds(f"rrset: {changed} of {len(hits)} cached rows found")
    if not misses:
        return
    conn.execute(STAGE_RRSET)
    conn.execute("DELETE FROM stage_rrset")
    conn.executemany(
        "INSERT INTO stage_rrset VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [(*row, i) for i, row in enumerate(stage_rrset_rows(misses))],
    )
    conn.execute(
        "INSERT INTO rrset (rrname_rev, rrname, rrtype, bailiwick, rdata, time_first, time_last, count, ttl_min, "
        "ttl_max) SELECT rrname_rev, rrname, rrtype, bailiwick, rdata, tf, tl, n, tmin, tmax FROM stage_rrset "
        f"WHERE true ON CONFLICT (rrname_rev, rrtype, bailiwick, rdata) DO UPDATE SET {MERGE_TTL}"
    )
    found = conn.execute(
        "SELECT s.i, t.id FROM stage_rrset s JOIN rrset t ON t.rrname_rev = s.rrname_rev AND t.rrtype = s.rrtype "
        "AND t.bailiwick = s.bailiwick AND t.rdata = s.rdata WHERE s.bailiwick = '' AND instr(s.rdata, char(10)) = 0"
    )
    for i, sid in found:
        (name, code, _, rdata), _st = misses[i]
        entry = rows.get((name, code, rdata))
        if entry is not None:
            entry[2] = sid
