"""Newly observed domains (NOD): names, and registered domains, the first time any sensor saw them.

A name is new at its first stored record (``Store.discoveries``): the
stream is in discovery order, each name once, with its first-seen time at
observation time (a backfill that reveals an earlier sighting lowers
``first_seen``; the name is not announced again). A registered domain
(eTLD+1, from the Public Suffix List bundled with ``publicsuffixlist``,
never fetched at run time) is new at the first discovery under it
(``Store.first_under``).

``nod_page`` reads one filtered page from a cursor; the cursor is opaque
and encodes the last sequence number read, so a client that resumes from
the last cursor it processed misses nothing and sees nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from publicsuffixlist import PublicSuffixList

from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Evidence
from yapdns.storage.base import Discovery, Store
from yapdns.storage.query import decode_cursor, encode_cursor

Level = Literal["name", "domain"]
SCAN = 10_000
SCAN_MAX = 200_000  # records one page may scan before answering (limited, with a cursor to go on)


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled in the package


def registered_domain(name: str) -> str | None:
    """The eTLD+1 of ``name`` (None for a public suffix itself)."""
    found: str | None = _psl().privatesuffix(name)
    return found


@dataclass(frozen=True)
class NodQuery:
    """Filters of the NOD list and stream."""

    since: int | None = None  # first seen at or after (epoch seconds)
    sensor: str | None = None
    evidence: Evidence | None = None
    within: str | None = None  # a name: only it and names below it
    level: Level = "name"
    limit: int = 100


@dataclass(frozen=True)
class NodItem:
    """One newly observed name or registered domain."""

    name: str
    level: Level
    first_seen: int
    last_seen: int
    records: int
    via: str  # the discovered name (itself, or the name under a new registered domain)
    seq: int  # its place in discovery order

    @property
    def cursor(self) -> str:
        """The cursor to resume after this item (encoded only when asked: a follower reading many needs few)."""
        return cursor_of(self.seq)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "level": self.level,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "records": self.records,
            "via": self.via,
            "registered_domain": registered_domain(self.via),
            "cursor": self.cursor,
        }


def cursor_of(seq: int) -> str:
    return encode_cursor(("nod", seq))


def parse_cursor(cursor: str | None) -> int:
    """The sequence number a cursor encodes (0: from the beginning)."""
    if not cursor:
        return 0
    values = decode_cursor(cursor)
    if len(values) != 2 or values[0] != "nod" or not isinstance(values[1], int) or values[1] < 0:
        raise InvalidQuery("not a NOD cursor")
    return values[1]


def scan(store: Store, query: NodQuery, after: int, budget: int = SCAN_MAX) -> Iterator[NodItem | int]:
    """Matching items from sequence ``after`` on, in discovery order; an int after each window says how far
    the scan got (every item before it was yielded). Stops at the end or after ``budget`` records."""
    scanned = 0
    while scanned < budget:
        page = store.discoveries(after, SCAN, query.within)
        for found in page.rows:
            item = _item(store, query, found)
            if item is not None:
                yield item
        if page.scanned_to == after:
            return
        scanned += page.scanned_to - after
        after = page.scanned_to
        yield after


def _item(store: Store, query: NodQuery, found: Discovery) -> NodItem | None:
    name = found.rrname
    if query.level == "domain":
        domain = registered_domain(found.rrname)
        if domain is None or not store.first_under(domain, found.seq):
            return None
        name = domain
    if query.since is not None and found.first_seen < query.since:
        return None
    if (query.sensor or query.evidence) and not _seen_by(store, found.rrname, query):
        return None
    return NodItem(name, query.level, found.first_seen, found.last_seen, found.records, found.rrname, found.seq)


def _seen_by(store: Store, name: str, query: NodQuery) -> bool:
    for prov in store.name_provenance(name):
        sensor = prov.sensor_id or ""
        sensor_ok = query.sensor is None or sensor == query.sensor or sensor.startswith(f"{query.sensor}/")
        if sensor_ok and (query.evidence is None or prov.evidence == query.evidence):
            return True
    return False


def nod_page(store: Store, query: NodQuery, cursor: str | None) -> tuple[list[NodItem], str, bool]:
    """One page: items, the cursor to continue from, and whether more may follow now."""
    after = parse_cursor(cursor)
    items: list[NodItem] = []
    last = after
    for step in scan(store, query, after):
        if isinstance(step, int):
            last = step
            if len(items) >= query.limit:
                break
            continue
        if len(items) >= query.limit:
            return items, items[-1].cursor, True
        items.append(step)
        last = step.seq
    if len(items) >= query.limit:
        return items, items[-1].cursor, True
    return items, cursor_of(last), store.discoveries(last, 1).scanned_to != last
