"""The per-name rollup kept by the writer (``name_rollup``, ``rollup_journal``, ``rollup_big``; migrations
0009-0011), for both SQL backends.

Guarantees:

* A big name (``BIG_RECORDS`` per-RR records or more, listed in ``rollup_big``) has one ``name_rollup`` row per
  RR type and provenance holding that provenance's summed ``count`` (saturating, as every count) and traffic
  and zone-file windows over the name's records of that type (``core/windows.py``: the traffic window is NULL
  while every sighting was in zone files); ``records`` and ``rrsets`` (the name's ``rr`` and ``rrset`` rows of
  that type) sit on one of the type's rows (prov 0: RRsets without records). Summed per type or per provenance
  they equal what ``rr``/``rrset``/``rr_seen`` give. A small name has no rows: ``rollup_source`` derives rows
  of the same shape from its records (fewer than ``BIG_RECORDS``), so reads never tell the two apart.
* The writer folds a group's deltas of big names (``group_deltas``: one entry per name, type and provenance)
  and writes them, with the small names that got new records (candidates), as ONE row of ``rollup_journal`` in
  the group's own transaction, so a batch applied once is journaled once and a replayed batch id changes
  nothing; the record and RRset counts come from the rows that transaction inserted. After the commit the
  deltas are also kept in memory (``Pending``), collapsed across groups. ``drain`` upserts them into
  ``name_rollup`` and deletes the journal rows they came from, in one transaction, about once per
  ``FLUSH_SECONDS`` (or sooner when ``PENDING_MAX`` keys are pending; before a prune rebuilds names; at
  shutdown; before this process reads the rollup): each journal row is applied exactly once, from memory when
  this writer wrote it and still holds it, else decoded from the row (a crash, another process's rows, a failed
  drain), so a crash loses nothing. A writer at schema 0010 or older keeps no rollup (0011 refills it).
* A drain promotes the candidates with ``BIG_RECORDS`` records or more: under the journal's lock (no group of
  another process commits meanwhile, no other promotion runs), after applying every journal row, it lists them
  in ``rollup_big`` and fills their rows from their records. Each group reads ``rollup_big`` (after its ``seq``)
  before it folds, under the same lock on PostgreSQL, so a group's sightings of a name are either in the
  records a promotion read or in the group's deltas, never both, never neither. A name stays big.
* The retention prune drains the journal, then recomputes the rows of every big name it removed records or
  RRsets of (``rebuild_names``), in the same transaction as the removal.

Reads (``RollupReader.name_rollup``) touch the rollup rows of one name (or its few records), or the key range of
the names below an apex (big names' rows, small names' records); they lag this process's own writes by nothing
(the store drains first) and another process's big names by about ``FLUSH_SECONDS``.
"""

from __future__ import annotations

import re
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import msgspec

from yapdns.core.model import Evidence, Provenance
from yapdns.core.names import reverse_name, unreverse_name
from yapdns.core.normalize import COUNT_CEILING
from yapdns.core.rrtypes import rrtype_text
from yapdns.gcpause import gc_paused
from yapdns.storage.aggregate import FoldedBatch, saturating_add
from yapdns.storage.base import NameRollup, NameSummary, RecordSummary, TypeSummary
from yapdns.storage.migrations import MigrationDb
from yapdns.storage.query import NameMatch
from yapdns.storage.sql import Dialect

Delta = list[Any]  # [count, time_first, time_last, zone_time_first, zone_time_last]; None where no window
REBUILD_CHUNK = 500  # names per statement when the prune recomputes rows
FLUSH_SECONDS = 1.0  # how long deltas may stay in memory (and the tables lag behind the records)
PENDING_MAX = 200_000  # pending keys that trigger a drain whatever their age (~50 MB)
ORPHAN_CHECK_SECONDS = 10.0  # how often an idle writer looks for journal rows no live writer drains
ZONE_CACHE_MIN_NAMES = 10_000  # a zone's figures over this many names are kept ...
ZONE_CACHE_SECONDS = 60.0  # ... this long (per store object), so they may be that old
ZONE_CACHE_SIZE = 256
BIG_RECORDS = 8  # a name gets rollup rows once it has this many per-RR records (rows from then on: ``rollup_big``)
Key = tuple[str, int, int]  # (name, rrtype code, prov id)
NewCounts = dict[tuple[str, int], int]  # rows a transaction inserted, per (rrname_rev, rrtype code)


def _add(table: dict[Any, Delta], key: Any, st: list[Any]) -> None:
    """Fold one folded-row's stats ``st`` (``aggregate.Stats``) into ``table[key]``."""
    zoned = len(st) > 5
    traffic = not (zoned and st[7])
    cur = table.get(key)
    if cur is None:
        table[key] = [
            st[2],
            st[0] if traffic else None,
            st[1] if traffic else None,
            st[5] if zoned else None,
            st[6] if zoned else None,
        ]
        return
    cur[0] += st[2]
    if traffic:
        if cur[1] is None or st[0] < cur[1]:
            cur[1] = st[0]
        if cur[2] is None or st[1] > cur[2]:
            cur[2] = st[1]
    if zoned and st[5] is not None:
        if cur[3] is None or st[5] < cur[3]:
            cur[3] = st[5]
        if cur[4] is None or st[6] > cur[4]:
            cur[4] = st[6]


# -- deferred deltas: the journal and what this writer holds in memory ----------------------------------------


def group_deltas(folded: FoldedBatch, big: set[str]) -> dict[Key, Delta]:
    """A group's RR rows of the names in ``big`` folded per ``(name, rrtype code, prov)`` (the hot path: one set
    probe per row, and one dict probe per row of a big name)."""
    out: dict[Key, Delta] = {}
    if not big:
        return out
    get = out.get
    for (name, code, _, prov), st in folded.rr.items():
        if name not in big:
            continue
        key = (name, code, prov)
        if len(st) > 5:
            _add(out, key, st)
            continue
        cur = get(key)
        if cur is None:
            out[key] = [st[2], st[0], st[1], None, None]
        elif cur[1] is None:  # zone-only so far
            _add(out, key, st)
        else:
            cur[0] += st[2]
            if st[0] < cur[1]:  # noqa: PLR1730 (faster than min here)
                cur[1] = st[0]
            if st[1] > cur[2]:  # noqa: PLR1730
                cur[2] = st[1]
    return out


def _merge(table: dict[Any, Delta], key: Any, d: Sequence[Any]) -> None:
    """Merge the delta ``d`` (``[count, tf, tl, ztf, ztl]``; a window's two ends are both None or both set)
    into ``table[key]`` (a copy of ``d`` when new)."""
    cur = table.get(key)
    if cur is None:
        table[key] = list(d)
    else:
        _merge_into(cur, d)


def _merge_into(cur: Delta, d: Sequence[Any]) -> None:
    cur[0] += d[0]
    if d[1] is not None:
        if cur[1] is None:
            cur[1], cur[2] = d[1], d[2]
        else:
            if d[1] < cur[1]:  # noqa: PLR1730 (faster than min here)
                cur[1] = d[1]
            if d[2] > cur[2]:  # noqa: PLR1730
                cur[2] = d[2]
    if d[3] is not None:
        if cur[3] is None:
            cur[3], cur[4] = d[3], d[4]
        else:
            if d[3] < cur[3]:  # noqa: PLR1730
                cur[3] = d[3]
            if d[4] > cur[4]:  # noqa: PLR1730
                cur[4] = d[4]


def _add_new(new: dict[tuple[str, int], list[int]], counts: NewCounts, slot: int) -> None:
    for key, n in counts.items():
        cur = new.get(key)
        if cur is None:
            cur = new[key] = [0, 0]
        cur[slot] += n


def encode_journal(deltas: dict[Key, Delta], new_rr: NewCounts, new_sets: NewCounts, candidates: list[str]) -> bytes:
    """One group's journal row (msgpack: C speed, no per-row Python): the big names' deltas and new record and
    RRset counts, and the small names that got new records (``candidates``, reversed)."""
    return msgspec.msgpack.encode((list(deltas.items()), list(new_rr.items()), list(new_sets.items()), candidates))


def decode_journal(blob: bytes, deltas: dict[Key, Delta], new: dict[tuple[str, int], list[int]],
                   candidates: set[str]) -> None:
    """Merge a journal row into ``deltas``, ``new`` and ``candidates``."""
    rows, new_rr, new_sets, *rest = msgspec.msgpack.decode(blob)
    for (name, code, prov), d in rows:
        _merge(deltas, (name, code, prov), d)
    _add_new(new, {(rev, code): n for (rev, code), n in new_rr}, 0)
    _add_new(new, {(rev, code): n for (rev, code), n in new_sets}, 1)
    if rest:
        candidates.update(rest[0])


def split_new(new: NewCounts, big_revs: set[str], candidates: set[str] | None) -> NewCounts:
    """The entries of ``new`` (rows a group inserted per ``(rrname_rev, rrtype)``) of big names; the other names
    go to ``candidates`` (when given): they may have crossed ``BIG_RECORDS``."""
    out: NewCounts = {}
    for key, n in new.items():
        if key[0] in big_revs:
            out[key] = n
        elif candidates is not None:
            candidates.add(key[0])
    return out


class Pending:
    """Committed groups' deltas not yet in the rollup tables: a cache of this writer's journal rows ``seqs``.

    Used on the writer thread only (``idle``/``due`` are read from others: plain attribute reads)."""

    def __init__(self) -> None:
        self.deltas: dict[Key, Delta] = {}
        self.new: dict[tuple[str, int], list[int]] = {}
        self.seqs: set[int] = set()
        self.candidates: set[str] = set()  # small names (reversed) with new records since the last drain
        self.big: set[str] = set()  # the names ``rollup_big`` holds (as stored in ``rr.rrname``) ...
        self.big_revs: set[str] = set()  # ... and reversed
        self.big_seq = 0  # the last ``rollup_big.seq`` read
        self.since = 0.0  # monotonic time of the oldest pending group
        self.check = True  # drain at the first chance: rows a crash (or another process) left in the journal
        self.draining = False  # set by the writer before it takes the deltas, cleared after its drain commits
        self._others: set[int] = set()  # rows of other writers at the last orphan check
        self._checked = time.monotonic()

    def sync(self, added: Iterable[tuple[int, str]]) -> None:
        """Take in the ``(seq, rrname_rev)`` rows of ``rollup_big`` after ``big_seq`` (any writer's promotions)."""
        for seq, rev in added:
            self.big_revs.add(rev)
            self.big.add(unreverse_name(rev))
            self.big_seq = max(self.big_seq, int(seq))

    @property
    def waiting(self) -> bool:
        """Whether deltas of committed groups may not be in the rollup tables yet (read from any thread:
        ``draining`` is set before ``take`` empties ``seqs``)."""
        return bool(self.seqs) or self.draining or self.check

    def orphan_check_due(self) -> bool:
        """Whether to look for orphaned journal rows now (every ``ORPHAN_CHECK_SECONDS``)."""
        return time.monotonic() - self._checked >= ORPHAN_CHECK_SECONDS

    def orphans(self, present: Iterable[int]) -> bool:
        """Given the journal's row ids now: whether rows of other writers were there at the previous check too
        (a live writer drains its own within ``FLUSH_SECONDS``; these belong to a dead one). Then ``check``."""
        others = set(present) - self.seqs
        stale = bool(others & self._others)
        self._others, self._checked = others, time.monotonic()
        self.check = self.check or stale
        return stale

    def add(self, seq: int, deltas: dict[Key, Delta], new_rr: NewCounts, new_sets: NewCounts,
            candidates: list[str]) -> None:
        """Keep a committed group's deltas (``deltas`` is taken over, not copied) and candidates."""
        if not self.seqs:
            self.since = time.monotonic()
        held = self.deltas
        if not held:
            self.deltas = deltas
        else:
            get = held.get
            for key, d in deltas.items():
                cur = get(key)
                if cur is None:
                    held[key] = d  # taken over
                else:
                    _merge_into(cur, d)
        _add_new(self.new, new_rr, 0)
        _add_new(self.new, new_sets, 1)
        self.candidates.update(candidates)
        self.seqs.add(seq)

    def due(self, interval: float) -> bool:
        """Whether to drain now: rows left by others unchecked, too many keys, or the oldest older than
        ``interval``."""
        if self.check:
            return True
        waited = time.monotonic() - self.since >= interval
        return bool(self.seqs) and (len(self.deltas) >= PENDING_MAX or waited)

    def take(self) -> tuple[dict[Key, Delta], dict[tuple[str, int], list[int]], set[int], set[str]]:
        """Everything held, emptied."""
        held = self.deltas, self.new, self.seqs, self.candidates
        self.deltas, self.new, self.seqs, self.candidates, self.check = {}, {}, set(), set(), False
        return held


class GroupJournal(Protocol):
    """What ``stage_group`` needs of a backend, inside an ingest group's transaction."""

    def big_since(self, seq: int) -> list[tuple[int, str]]:
        """The ``(seq, rrname_rev)`` rows of ``rollup_big`` after ``seq``."""
        ...

    def append(self, blob: bytes) -> int:
        """Add one journal row; its ``seq``."""
        ...


Staged = tuple[int, dict[Key, Delta], NewCounts, NewCounts, list[str]]  # ``Pending.add``'s arguments


def stage_group(journal: GroupJournal, pending: Pending, folded: FoldedBatch, new_rr: NewCounts,
                new_sets: NewCounts) -> Staged | None:
    """Journal one ingest group's rollup in its transaction: the big names' deltas (after taking in any
    writer's promotions) and the small names that got new records (candidates); what ``pending.add`` takes
    after COMMIT, or None when the group has nothing to journal."""
    pending.sync(journal.big_since(pending.big_seq))
    deltas = group_deltas(folded, pending.big)
    candidates: set[str] = set()
    new_rr = split_new(new_rr, pending.big_revs, candidates)
    new_sets = split_new(new_sets, pending.big_revs, None)
    if not (deltas or new_rr or new_sets or candidates):
        return None
    listed = list(candidates)
    return journal.append(encode_journal(deltas, new_rr, new_sets, listed)), deltas, new_rr, new_sets, listed


class JournalDb(Protocol):
    """What ``drain`` needs of a backend, inside the caller's write transaction."""

    def lock(self) -> None:
        """Keep other writers from committing journal rows, and other transactions from promoting names, until
        this transaction ends (the prune, a promotion)."""
        ...

    def crossed(self, revs: list[str]) -> list[str]:
        """The names of ``revs`` (reversed) not in ``rollup_big`` with ``BIG_RECORDS`` records or more."""
        ...

    def promote(self, revs: list[str]) -> None:
        """Add ``revs`` to ``rollup_big`` and fill their rows from their records (``rebuild_names``), under
        ``lock`` and after the journal's rows were applied."""
        ...

    def seqs(self) -> list[int]:
        """The ids of every committed journal row, locked for this transaction."""
        ...

    def blobs(self, seqs: list[int]) -> list[bytes]:
        """The rows ``seqs``."""
        ...

    def delete(self, seqs: list[int]) -> None:
        """Delete the rows ``seqs``."""
        ...

    def upsert(self, rows: list[tuple[Any, ...]]) -> None:
        """Add delta rows (``table_rows``) to ``name_rollup``."""
        ...


def table_rows(deltas: dict[Key, Delta], new: dict[tuple[str, int], list[int]]) -> list[tuple[Any, ...]]:
    """The ``name_rollup`` rows ``(rrname_rev, rrtype, prov, records, rrsets, count, tf, tl, ztf, ztl)`` of
    collapsed deltas, unordered (SQLite's table is small enough to take them so; PostgreSQL orders its upsert by
    key in SQL); a name and type's new records and RRsets go on the first of its rows met here (readers sum
    them over the type's rows), or on prov 0 without any."""
    revs: dict[str, str] = {}
    rev_of = revs.get
    ceiling = COUNT_CEILING
    left = dict(new)
    rows = []
    for (name, code, prov), (n, tf, tl, ztf, ztl) in deltas.items():
        rev = rev_of(name)
        if rev is None:
            rev = revs[name] = reverse_name(name)
        counts = left.pop((rev, code), None) if left else None
        if counts is None:
            rows.append((rev, code, prov, 0, 0, min(n, ceiling), tf, tl, ztf, ztl))
        else:
            rows.append((rev, code, prov, counts[0], counts[1], min(n, ceiling), tf, tl, ztf, ztl))
    rows.extend((rev, code, 0, r, n, 0, None, None, None, None) for (rev, code), (r, n) in left.items())
    return rows


def drain(db: JournalDb, pending: Pending, lock: bool = False) -> int:
    """Fold every journal row into the rollup tables and delete it, in the caller's transaction; return how
    many rows. A row this writer holds in ``pending`` is applied from memory, any other decoded from the row;
    if another drain took some of this writer's rows, the memory is dropped and every row decoded. ``pending``
    is emptied first, so a rollback leaves the rows for a later drain to decode: each applied once. Cyclic GC
    is paused meanwhile (``gcpause``: hundreds of thousands of short-lived rows, no cycles)."""
    with gc_paused():
        return _drain(db, pending, lock)


def _drain(db: JournalDb, pending: Pending, lock: bool) -> int:
    deltas, new, mine, candidates = pending.take()
    promoted = db.crossed(sorted(candidates)) if candidates else []
    if lock or promoted:
        db.lock()
    present = db.seqs()
    if not mine <= set(present):
        deltas, new, foreign = {}, {}, present
    else:
        foreign = [s for s in present if s not in mine]
    later: set[str] = set()  # other writers' candidates: probed by the next drain (before its locks), which they
    # do not make due by themselves (a drain would take a live writer's journal rows each time)
    for blob in db.blobs(foreign) if foreign else []:
        decode_journal(blob, deltas, new, later)
    if deltas or new:
        db.upsert(table_rows(deltas, new))
    if present:
        db.delete(present)
    if promoted:
        db.promote(promoted)
    pending.candidates.update(later)
    return len(present)


def _windows(least: str, greatest: str, new: str, old: str, nulls: bool) -> str:
    """The SET clauses merging the windows of ``new`` into ``old`` (NULL: no window), per dialect."""
    def pick(fn: str, col: str) -> str:
        both = f"{fn}({old}{col}, {new}{col})"
        return f"{col} = coalesce({both}, {old}{col}, {new}{col})" if nulls else f"{col} = {both}"
    return ", ".join((pick(least, "time_first"), pick(greatest, "time_last"), pick(least, "zone_time_first"),
                      pick(greatest, "zone_time_last")))


def upsert_sql(dialect: str, source: str) -> str:
    """The ``name_rollup`` upsert; ``dialect`` is ``sqlite`` (``source`` ignored: a VALUES placeholder list per
    row) or ``postgresql`` (``source``: the staging table, read in key order)."""
    sqlite = dialect == "sqlite"
    least, greatest = ("min", "max") if sqlite else ("LEAST", "GREATEST")
    old = "" if sqlite else "t."
    new = "excluded." if sqlite else "EXCLUDED."
    wins = _windows(least, greatest, new, old, nulls=sqlite)
    total = f"count = {saturating_add(least, f'{old}count', f'{new}count')}"
    alias = "" if sqlite else " AS t"
    src = f"VALUES ({', '.join('?' * 10)})" if sqlite else f"SELECT * FROM {source} ORDER BY 1, 2, 3"
    return (
        f"INSERT INTO name_rollup{alias} {src} ON CONFLICT (rrname_rev, rrtype, prov) DO UPDATE SET "
        f"records = {old}records + {new}records, rrsets = {old}rrsets + {new}rrsets, {total}, {wins}"
    )


# -- the retention prune ------------------------------------------------------------------------------------



def rebuild_names(db: MigrationDb, revs: Iterable[str], count_sum: str,
                  drain_first: Callable[[MigrationDb], object] | None = None) -> None:
    """Recompute the rollup rows of the names ``revs`` (reversed) from their records; ``count_sum`` is the
    dialect's saturating sum with ``{}`` for its argument; ``drain_first`` drains the journal (with its lock) in
    the same transaction first, so no delta older than the records read here is applied after."""
    if drain_first is not None:
        drain_first(db)
    ordered = sorted(set(revs))
    for start in range(0, len(ordered), REBUILD_CHUNK):
        chunk = ordered[start : start + REBUILD_CHUNK]
        marks = ", ".join("?" * len(chunk))
        db.run(f"DELETE FROM name_rollup WHERE rrname_rev IN ({marks})", chunk)
        chunk = [rev for (rev,) in db.rows(f"SELECT rrname_rev FROM rollup_big WHERE rrname_rev IN ({marks}) "
                                           "ORDER BY rrname_rev", chunk)]  # small names keep no rows
        if not chunk:
            continue
        marks = ", ".join("?" * len(chunk))
        db.run(_REFILL.format(marks=marks, total=count_sum.format("s.count")), chunk * 3)
        db.run(_REFILL_RRSETS.format(marks=marks), chunk)


_REFILL = (  # the rows of some names from their records, as migrations 0010 and 0011 fill them (set-based)
    "INSERT INTO name_rollup (rrname_rev, rrtype, prov, records, rrsets, count, time_first, time_last, "
    "zone_time_first, zone_time_last) "
    "SELECT g.rrname_rev, g.rrtype, g.prov, CASE WHEN g.first THEN coalesce(c.n, 0) ELSE 0 END, "
    "CASE WHEN g.first THEN coalesce(t.n, 0) ELSE 0 END, g.total, g.tf, g.tl, g.ztf, g.ztl "
    "FROM (SELECT r.rrname_rev, r.rrtype, s.prov, {total} AS total, "
    "min(CASE WHEN s.zone_only THEN NULL ELSE s.time_first END) AS tf, "
    "max(CASE WHEN s.zone_only THEN NULL ELSE s.time_last END) AS tl, "
    "min(s.zone_time_first) AS ztf, max(s.zone_time_last) AS ztl, "
    "s.prov = min(s.prov) OVER (PARTITION BY r.rrname_rev, r.rrtype) AS first "
    "FROM rr r JOIN rr_seen s ON s.rr_id = r.id WHERE r.rrname_rev IN ({marks}) "
    "GROUP BY r.rrname_rev, r.rrtype, s.prov) AS g "
    "LEFT JOIN (SELECT rrname_rev, rrtype, count(*) AS n FROM rr WHERE rrname_rev IN ({marks}) "
    "GROUP BY rrname_rev, rrtype) AS c ON c.rrname_rev = g.rrname_rev AND c.rrtype = g.rrtype "
    "LEFT JOIN (SELECT rrname_rev, rrtype, count(*) AS n FROM rrset WHERE rrname_rev IN ({marks}) "
    "GROUP BY rrname_rev, rrtype) AS t ON t.rrname_rev = g.rrname_rev AND t.rrtype = g.rrtype ORDER BY 1, 2, 3"
)
_REFILL_RRSETS = (  # RRsets of a type without any record: prov 0
    "INSERT INTO name_rollup SELECT s.rrname_rev, s.rrtype, 0, 0, count(*), 0, NULL, NULL, NULL, NULL FROM rrset s "
    "WHERE s.rrname_rev IN ({marks}) AND NOT EXISTS (SELECT 1 FROM name_rollup n WHERE n.rrname_rev = s.rrname_rev "
    "AND n.rrtype = s.rrtype) GROUP BY s.rrname_rev, s.rrtype ORDER BY 1, 2"
)


# -- reads ----------------------------------------------------------------------------------------------------


_SUM = re.compile(r"SUM\(([\w.]+)\)")


class RollupReader(ABC):
    """``Store.name_rollup`` over the rollup tables."""

    dialect: Dialect
    native_sum_raises = False  # SQLite: its sum() raises on overflow, so it is tried first (C, not Python)

    @abstractmethod
    def _rows(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one SELECT on a reading connection and return all its rows."""

    def _sq(self, text: str) -> str:
        return text.replace("?", self.dialect.ph)

    def _summed(self, text: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        """Run ``text`` with each ``SUM(col)`` a saturating sum: where the native sum raises on overflow
        (SQLite), the native one first and the dialect's saturating aggregate only if it did; callers cap the
        sums at ``COUNT_CEILING``."""
        if self.native_sum_raises:
            try:
                return self._rows(self._sq(_SUM.sub(r"sum(\1)", text)), params)
            except sqlite3.OperationalError as exc:
                if "overflow" not in str(exc):
                    raise
        return self._rows(self._sq(_SUM.sub(lambda m: self.dialect.count_sum(m.group(1)), text)), params)

    def _rollup_current(self) -> None:  # noqa: B027 (a hook: nothing to do by default)
        """Bring the rollup tables up to this process's own committed writes (the store drains its writer's
        pending deltas); other processes' writes show within ``FLUSH_SECONDS`` or so."""

    def name_rollup(self, name: str, below: bool = False, top: int = 10, seen_by: bool = True) -> NameRollup:
        if not below:
            return self._name_rollup(name, below, top, seen_by)
        cache: dict[tuple[str, int, bool], tuple[float, NameRollup]] = self.__dict__.setdefault("_zone_cache", {})
        key = (name, top, seen_by)
        hit = cache.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < ZONE_CACHE_SECONDS:
            return hit[1]
        rolled = self._name_rollup(name, below, top, seen_by)
        if rolled.names >= ZONE_CACHE_MIN_NAMES:
            if len(cache) >= ZONE_CACHE_SIZE:
                cache.pop(min(list(cache.items()), key=lambda kv: kv[1][0])[0], None)
            cache[key] = (now, rolled)
        return rolled

    def _name_rollup(self, name: str, below: bool, top: int, seen_by: bool) -> NameRollup:
        """``name_rollup`` read from the rollup rows of the big names and the records of the small ones: for a
        name, its per-type and per-provenance figures (``rollup_source``, ``_breakdowns``); for a zone, those
        and the name count and busiest names (``_zone``)."""
        self._rollup_current()
        match = NameMatch("suffix" if below else "exact", name)
        lo, hi = match.key_range()
        if below:
            return self._zone((lo, hi), top, seen_by)
        # one name is read from one place, decided by one probe: a big name's rows, or a small name's records (a
        # name promoted in between is read from its records, which are exact too); never a big name's records
        big = bool(self._rows(self._sq("SELECT 1 FROM name_rollup WHERE rrname_rev = ? LIMIT 1"), (lo,)))
        where = "rrname_rev = ?"
        source = (rollup_source(where, big), (lo,) * (1 if big else SOURCE_PARTS - 1))
        types, seen = self._breakdowns(source, seen_by)
        if not types:
            return _rollup([], 0, [], [])
        return _rollup(types, 1, [], seen)

    def _zone(self, key_range: tuple[str, str], top: int, seen_by: bool) -> NameRollup:
        """A zone's figures from ONE statement: its rows (``zone_source``: big names' rollup rows, small names'
        records and RRsets) are materialized once, then grouped per type, counted per name and ranked per name,
        with "Seen by" grouped from ``zone_seen_source`` (only when asked: it reads every record's ``rr_seen``
        rows), and the four results told apart by their first column."""
        src, params = zone_source(), key_range * ZONE_PARTS
        parts = [_ZONE_TYPES]
        if seen_by:
            parts.append(_ZONE_SEEN.format(src=zone_seen_source()))
            params += key_range * ZONE_SEEN_PARTS
        parts.append(_ZONE_NAMES)
        if top > 0:
            parts.append(_ZONE_BUSIEST.format(top=int(top)))
        rows = self._summed(f"WITH u AS MATERIALIZED (SELECT * FROM {src} AS s) " + " UNION ALL ".join(parts), params)
        types = [r[1:2] + r[5:12] for r in rows if r[0] == 0]
        if not types:
            return _rollup([], 0, [], [])
        seen = sorted((r[2:5] + r[7:12] for r in rows if r[0] == 1), key=lambda r: (r[0], r[1], r[2]))
        names = next(int(r[5]) for r in rows if r[0] == 2)
        ceiling = COUNT_CEILING
        ranked = sorted((r for r in rows if r[0] == 3), key=lambda r: (-int(r[7]), r[2]))
        busiest = [NameSummary(unreverse_name(r[2]), int(r[5]), min(int(r[7]), ceiling), int(r[8] or 0),
                               int(r[9] or 0)) for r in ranked]
        return _rollup(types, names, busiest, [_provenance(r) for r in seen])

    group_type_and_prov = False  # PostgreSQL: both breakdowns from one hash-grouped pass

    def _breakdowns(self, source: tuple[str, tuple[object, ...]],
                    seen_by: bool) -> tuple[Sequence[Sequence[Any]], list[Provenance]]:
        """Rows ``(rrtype, records, rrsets, count, tf, tl, ztf, ztl)`` per type, and "Seen by" (empty unless
        ``seen_by``). Where ``group_type_and_prov``, one pass grouped per type and provenance, folded here;
        else (SQLite, which groups by sorting: one sort of every row costs more there than a sort per type plus
        a join that scans the range once per provenance) a pass per type and a pass per provenance."""
        src, params = source
        if self.group_type_and_prov:
            cells = self._summed(
                "SELECT g.rrtype, g.nr, g.ns, g.nc, g.tf, g.tl, g.ztf, g.ztl, p.sensor, p.evidence, p.source FROM "
                "(SELECT rrtype, prov, sum(records) AS nr, sum(rrsets) AS ns, SUM(count) AS nc, min(time_first) AS "
                "tf, max(time_last) AS tl, min(zone_time_first) AS ztf, max(zone_time_last) AS ztl FROM "
                f"{src} AS u GROUP BY rrtype, prov) g LEFT JOIN prov p ON p.id = g.prov",
                params,
            )
            return _fold(cells, 0), _seen(cells) if seen_by else []
        types = self._summed(
            "SELECT rrtype, sum(records), sum(rrsets), SUM(count), min(time_first), max(time_last), "
            f"min(zone_time_first), max(zone_time_last) FROM {src} AS u GROUP BY rrtype",
            params,
        )
        return types, self._seen_by(source) if seen_by and types else []

    def _seen_by(self, source: tuple[str, tuple[object, ...]]) -> list[Provenance]:
        src, params = source
        found = self._summed(
            "SELECT p.sensor, p.evidence, p.source, SUM(r.count), min(r.time_first), max(r.time_last), "
            f"min(r.zone_time_first), max(r.zone_time_last) FROM {src} r JOIN prov p ON p.id = r.prov "
            "GROUP BY p.sensor, p.evidence, p.source ORDER BY p.sensor, p.evidence, p.source",
            params,
        )
        return [_provenance(r) for r in found]


_WINDOWS_OF = "min(time_first), max(time_last), min(zone_time_first), max(zone_time_last)"
_WINDOWS_AS = ("min(time_first) AS time_first, max(time_last) AS time_last, min(zone_time_first) AS zone_time_first, "
               "max(zone_time_last) AS zone_time_last")
_ZONE_TYPES = (  # (0, rrtype, -, -, -, records, rrsets, count, tf, tl, ztf, ztl)
    "SELECT 0, rrtype, NULL, NULL, NULL, sum(records), sum(rrsets), SUM(count), "
    f"{_WINDOWS_OF} FROM u GROUP BY rrtype"
)
_ZONE_SEEN = (  # (1, -, sensor, evidence, source, 0, 0, count, tf, tl, ztf, ztl), from ``zone_seen_source``
    "SELECT 1, NULL, p.sensor, p.evidence, p.source, 0, 0, SUM(v.count), min(v.time_first), max(v.time_last), "
    "min(v.zone_time_first), max(v.zone_time_last) FROM {src} AS v JOIN prov p ON p.id = v.prov "
    "GROUP BY p.sensor, p.evidence, p.source"
)
_ZONE_NAMES = (  # (2, -, -, -, -, names, 0, 0, -, -, -, -)
    "SELECT 2, NULL, NULL, NULL, NULL, count(DISTINCT rrname_rev), 0, 0, NULL, NULL, NULL, NULL FROM u"
)
_ZONE_BUSIEST = (  # (3, -, rrname_rev, -, -, records, 0, count, first, last, -, -), the top names
    "SELECT * FROM (SELECT 3, CAST(NULL AS INTEGER), rrname_rev, CAST(NULL AS TEXT), CAST(NULL AS TEXT), "
    "sum(records), 0, SUM(count) AS nc, coalesce(min(time_first), min(zone_time_first)), "
    "coalesce(max(time_last), max(zone_time_last)), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT) "
    "FROM u GROUP BY rrname_rev ORDER BY nc DESC, rrname_rev LIMIT {top}) AS b"
)
SOURCE_PARTS = 4  # how many times ``rollup_source`` repeats its ``where`` (its parameters, as many times)
_SMALL = "NOT EXISTS (SELECT 1 FROM name_rollup n WHERE n.rrname_rev = r.rrname_rev)"


def rollup_source(where: str, big: bool | None = None) -> str:
    """A derived table (to be named) of the rows of the names matching ``where`` (on ``rrname_rev``, with
    placeholders; ``SOURCE_PARTS`` times its parameters): the rollup rows of the big names, and for each small
    name (no rows) rows of the same shape from its records: one per record and provenance (``rr_seen``), one of
    its record count and one of its RRset count per type (prov 0, no window). Grouped by type, provenance or
    name they give what rollup rows would; a small name's cost is its records (fewer than ``BIG_RECORDS``, unless
    a drain has yet to promote it). ``big`` (names known to be all big, or all small): only the rollup rows (one
    time the parameters), or only the records, unchecked (``SOURCE_PARTS - 1`` times)."""
    inner = where.replace("rrname_rev", "r.rrname_rev")
    small = "" if big is False else f" AND {_SMALL}"
    traffic = "CASE WHEN s.zone_only THEN NULL ELSE s.{} END"
    rows = ("SELECT rrname_rev, rrtype, prov, records, rrsets, count, time_first, time_last, zone_time_first, "
            f"zone_time_last FROM name_rollup WHERE {where}")
    if big:
        return f"({rows})"
    records = (
        "SELECT r.rrname_rev AS rrname_rev, r.rrtype AS rrtype, s.prov AS prov, 0 AS records, 0 AS rrsets, "
        f"s.count AS count, {traffic.format('time_first')} AS time_first, {traffic.format('time_last')} AS "
        "time_last, s.zone_time_first AS zone_time_first, s.zone_time_last AS zone_time_last FROM rr r JOIN rr_seen s "
        f"ON s.rr_id = r.id WHERE {inner}{small} "
        "UNION ALL SELECT r.rrname_rev, r.rrtype, 0, count(*), 0, 0, NULL, NULL, NULL, NULL FROM rr r "
        f"WHERE {inner}{small} GROUP BY r.rrname_rev, r.rrtype "
        "UNION ALL SELECT r.rrname_rev, r.rrtype, 0, 0, count(*), 0, NULL, NULL, NULL, NULL FROM rrset r "
        f"WHERE {inner}{small} GROUP BY r.rrname_rev, r.rrtype"
    )
    return f"({records})" if big is False else f"({rows} UNION ALL {records})"


_RANGE = "rrname_rev > ? AND rrname_rev < ?"
_SMALL_IN_RANGE = f"{_RANGE} AND rrname_rev NOT IN (SELECT rrname_rev FROM name_rollup WHERE {_RANGE})"
_TRAFFIC = "CASE WHEN {p}zone_only THEN NULL ELSE {p}{col} END"
ZONE_PARTS = 5  # how many times ``zone_source`` takes the zone's key range (its two parameters)
ZONE_SEEN_PARTS = 3  # ... and ``zone_seen_source``


def zone_source() -> str:
    """A derived table (to be named) of the rows of the names in a zone's key range (``ZONE_PARTS`` times its
    two parameters), shaped ``(rrname_rev, rrtype, records, rrsets, count, time_first, time_last,
    zone_time_first, zone_time_last)``: the rollup rows of the big names, one row per record of each small name
    (the record's own sum and windows, which are those of its ``rr_seen`` rows combined: ``core/windows.py``)
    and one per RRset. Grouped by type or by name they give what ``rollup_source`` gives, from one pass over
    the range's records (no ``rr_seen`` read, big names set apart once, not probed per row)."""
    t = _TRAFFIC.format(p="", col="{}")
    return (
        "(SELECT rrname_rev, rrtype, records, rrsets, count, time_first, time_last, zone_time_first, "
        f"zone_time_last FROM name_rollup WHERE {_RANGE} "
        f"UNION ALL SELECT rrname_rev, rrtype, 1, 0, count, {t.format('time_first')}, {t.format('time_last')}, "
        f"zone_time_first, zone_time_last FROM rr WHERE {_SMALL_IN_RANGE} "
        "UNION ALL SELECT rrname_rev, rrtype, 0, 1, 0, NULL, NULL, NULL, NULL FROM rrset "
        f"WHERE {_SMALL_IN_RANGE})"
    )


def zone_seen_source() -> str:
    """A derived table (to be named) of ``(prov, count, time_first, time_last, zone_time_first,
    zone_time_last)``, one row per provenance, of a zone's key range (``ZONE_SEEN_PARTS`` times its two
    parameters): the big names' rollup rows and the small names' ``rr_seen`` rows grouped per provenance id
    before anything joins ``prov`` (joined first, SQLite scanned the range once per provenance)."""
    t = _TRAFFIC.format(p="s.", col="{}")
    small = ("r.rrname_rev > ? AND r.rrname_rev < ? AND r.rrname_rev NOT IN "
             f"(SELECT rrname_rev FROM name_rollup WHERE {_RANGE})")
    return (
        f"(SELECT prov, SUM(count) AS count, {_WINDOWS_AS} FROM (SELECT prov, count, time_first, time_last, "
        f"zone_time_first, zone_time_last FROM name_rollup WHERE {_RANGE} UNION ALL SELECT s.prov, s.count, "
        f"{t.format('time_first')}, {t.format('time_last')}, s.zone_time_first, s.zone_time_last FROM rr r "
        f"JOIN rr_seen s ON s.rr_id = r.id WHERE {small}) AS w GROUP BY prov)"
    )


def _lower(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _upper(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _fold(cells: Sequence[Sequence[Any]], key: int) -> list[list[Any]]:
    """Rows ``(key, records, rrsets, count, tf, tl, ztf, ztl)`` of the per-type-and-provenance ``cells`` folded
    per ``cells[i][key]`` (``key`` may be a slice), in first-met order; counts capped at ``COUNT_CEILING`` (a
    capped sum of capped parts is the capped whole)."""
    out: dict[Any, list[Any]] = {}
    for c in cells:
        k = c[key]
        cur = out.get(k)
        if cur is None:
            out[k] = [k, int(c[1]), int(c[2]), min(int(c[3]), COUNT_CEILING), *c[4:8]]
            continue
        cur[1] += int(c[1])
        cur[2] += int(c[2])
        cur[3] = min(cur[3] + int(c[3]), COUNT_CEILING)
        cur[4], cur[5] = _lower(cur[4], c[4]), _upper(cur[5], c[5])
        cur[6], cur[7] = _lower(cur[6], c[6]), _upper(cur[7], c[7])
    return list(out.values())


def _seen(cells: Sequence[Sequence[Any]]) -> list[Provenance]:
    """"Seen by" from the cells: per provenance (prov 0, RRsets without records, has none), ordered."""
    known = [(*c[:8], (c[8], c[9], c[10])) for c in cells if c[8] is not None]
    rows = sorted(_fold(known, 8), key=lambda r: r[0])
    return [_provenance((*r[0], r[3], r[4], r[5], r[6], r[7])) for r in rows]


def _provenance(r: Sequence[Any]) -> Provenance:
    traffic = r[4] is not None
    return Provenance(
        r[0], Evidence(r[1]), r[2],
        int(r[4] if traffic else r[6]), int(r[5] if traffic else r[7]), min(int(r[3]), COUNT_CEILING),
        None if r[6] is None else int(r[6]), None if r[7] is None else int(r[7]), not traffic,
    )


def _either(traffic: Any, zone: Any) -> int:
    """The traffic bound, else the zone-file one (0 for a row without records)."""
    return int(traffic if traffic is not None else zone if zone is not None else 0)


def _opt(values: Iterable[Any], pick: Any) -> int | None:
    present = [int(v) for v in values if v is not None]
    return pick(present) if present else None


def _rollup(types: Sequence[Sequence[Any]], names: int, busiest: list[NameSummary],
            seen: list[Provenance]) -> NameRollup:
    by_type = sorted(
        (TypeSummary(rrtype_text(int(t[0])), int(t[1]), min(int(t[3]), COUNT_CEILING), _either(t[4], t[6]),
                     _either(t[5], t[7]))
         for t in types),
        key=lambda t: (-t.records, t.rrtype),
    )
    return NameRollup(
        names=names,
        records=sum(int(t[1]) for t in types),
        rrsets=sum(int(t[2]) for t in types),
        count=min(sum(int(t[3]) for t in types), COUNT_CEILING),
        time_first=_opt((t[4] for t in types), min),
        time_last=_opt((t[5] for t in types), max),
        zone_time_first=_opt((t[6] for t in types), min),
        zone_time_last=_opt((t[7] for t in types), max),
        by_type=by_type,
        top_names=busiest,
        seen_by=seen,
    )


def from_summary(summary: RecordSummary, seen_by: list[Provenance]) -> NameRollup:
    """A ``NameRollup`` from a bounded ``Store.summarize`` (a backend without a rollup); inexact when limited."""
    return NameRollup(
        names=summary.names,
        records=summary.records,
        rrsets=summary.rrsets or 0,
        count=summary.count,
        time_first=summary.time_first,
        time_last=summary.time_last,
        zone_time_first=summary.zone_time_first,
        zone_time_last=summary.zone_time_last,
        by_type=summary.by_type,
        top_names=summary.top_names,
        seen_by=seen_by,
        exact=not summary.limited,
    )
