"""``RowIdCache``: a writer's memory of row ids (used by the SQLite writer, ``sqlite/rowids.py``).

A writer thread remembers, per record ``(rrname, rrtype code, rdata)``, a
``CachedRow``: the ``rr`` row id, an upper bound of its stored
``time_first`` and the row id of its one-RR RRset without bailiwick (0
while unknown). A record seen again is then updated by row id instead of
by its text key.

Why ids stay right: ``rr`` and ``rrset`` rows are never deleted and their ids
never change, so an id read from a committed row stays valid, also while
other writers (threads, processes) add rows. A writer clears its cache when
one of its transactions rolls back (ids of rows it inserted are gone) and
when the cache outgrows its limit. An ``UPDATE`` by id that finds fewer rows
than it was given raises ``StaleRowIds``: the group is rolled back and
applied again without the cache, never silently short.

That guard only sees rows that are gone, not an id reused by another record
(SQLite may reuse the highest rowid after a delete): anything that deletes
``rr`` or ``rrset`` rows must never delete the row with the highest id, as
retention (``storage/prune.py``) does not, or must clear every writer's cache.
"""

from __future__ import annotations

from yapdns.core.errors import StoreError
from yapdns.storage.aggregate import Stats, fold_into

CACHE_LIMIT = 1_000_000  # records; ~400 bytes each with their own key strings (measured), so <= ~400 MB
RecordKey = tuple[str, int, str]


class CachedRow:
    """What a writer remembers of one record; ``first_bound`` and ``rrset_id`` are updated in place."""

    __slots__ = ("first_bound", "rr_id", "rrset_id")

    def __init__(self, rr_id: int, first_bound: int, rrset_id: int = 0) -> None:
        self.rr_id = rr_id  # the rr row's id
        self.first_bound = first_bound  # an upper bound of the row's stored time_first (it only ever decreases)
        self.rrset_id = rrset_id  # the id of the record's one-RR RRset without bailiwick; 0 while unknown


class StaleRowIds(StoreError):
    """An ``UPDATE`` by a cached row id found no row: the cache no longer matches the file."""


class RowIdCache:
    """``(rrname, rrtype code, rdata)`` → ``CachedRow``."""

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self.limit = limit
        self.rows: dict[RecordKey, CachedRow] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.rows.clear()

    def trim(self) -> None:
        """Start over when the cache outgrew its limit (hot records come back within a group)."""
        if len(self.rows) > self.limit:
            self.rows.clear()


def merged(a: Stats, b: Stats) -> Stats:
    """Stats ``a`` and ``b`` folded into a new list, by ``aggregate.merge``'s rules (``a`` is left as it is)."""
    out = list(a)
    fold_into(out, b)
    return out
