"""The ``Store`` contract that every backend implements and one test suite checks.

Guarantees every backend gives:

* ``write`` applies a whole batch in one transaction, or nothing of it.
* A batch whose ``(sensor, batch_id)`` was applied before is not applied again;
  ``write`` then returns the first application's counts with ``replayed=True``.
* A write's commit hooks (``then``, ``CommitHook``) run in the writer's
  thread after its transaction committed and before ``write`` returns, once
  per committed transaction for all its writes that handed the same hook;
  never for a write that failed (tests/storage/test_contract_commit_hooks.py).
* A write hands the batch over whole: the backend decides how to aggregate
  (no caller does read-modify-write), so append-and-merge engines fit too.
* Records aggregate as ``time_first = min``, ``time_last = max``,
  ``count = sum``, ``ttl_min``/``ttl_max``, overall and per provenance
  ``(sensor, evidence, source)``, with zone-file times kept apart from
  traffic times by ``core.windows.combine`` (``time_*`` the traffic window,
  else the zone window of a zone-only record; ``zone_time_*`` the zone
  window); the fences apply to ``time_*`` (tests/storage/test_contract_zone.py).
* Every lookup returns rows in a stable order, pages with an opaque cursor,
  and says ``limited`` when rows were left out.
* A write that fails for a reason a retry can cure (the database is
  unreachable, locked, out of space, or a transaction conflict) raises
  ``StoreUnavailable``; any other exception is a failure a retry would
  repeat (a bug, or data the store cannot hold), and callers must not
  answer it with "retry later".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, NamedTuple, Protocol, TypeVar

import msgspec

from yapdns.core.errors import StoreError
from yapdns.core.model import (
    NegativeRecord,
    Observation,
    Provenance,
    QueryRecord,
    Record,
    RRsetRecord,
    SampleLink,
)
from yapdns.storage.context import AddressPage, IpContextRow
from yapdns.storage.flex import FlexQuery, FlexRow
from yapdns.storage.query import Page, RecordQuery

T = TypeVar("T")


class StoreUnavailable(StoreError):
    """The record store cannot apply writes right now; retry later."""


class BatchRef(msgspec.Struct, frozen=True):
    """Identifies one ingest batch, with what validation accepted and rejected."""

    sensor: str
    batch_id: str
    accepted: int = 0
    rejected: int = 0


class WriteOutcome(msgspec.Struct, frozen=True):
    """What a write did: applied now, or recognised as a replay of an earlier batch."""

    replayed: bool
    accepted: int
    rejected: int


class CommitHook(Protocol):
    """Work a write hands the store's writer (``Then``): run in the writer's thread after the write committed and
    before the write returns; never for a write that failed.

    ``committed`` is called once per committed transaction (group) with the note and outcome of each write of the
    group that handed this hook (replays too), so it can do one statement for all of them; ``writer_done`` when a
    writer thread that called it stops (to close what it opened there). Neither may raise (what they raise is
    logged and dropped, the writes stay answered) nor use the store's writer.
    """

    def committed(self, notes: list[tuple[Any, WriteOutcome]]) -> None:
        """The group's writes that handed this hook committed (or were replays)."""
        ...

    def writer_done(self) -> None:
        """The calling writer thread stops."""
        ...


class Then(NamedTuple):
    """A hook and what one write hands it (``Store.write``'s ``then``)."""

    hook: CommitHook
    note: Any


class StoreStats(msgspec.Struct, frozen=True):
    """Sizes and totals for ``yapdns stats`` and the dashboard."""

    backend: str
    records: int
    rrsets: int
    negatives: int
    queries: int
    observations: int
    batches: int
    records_by_type: dict[str, int]
    size_bytes: int | None = None


class NameSummary(msgspec.Struct, frozen=True):
    """One owner name's totals over its per-RR records (the dashboard's new and top names)."""

    rrname: str
    records: int
    count: int
    time_first: int
    time_last: int


class TypeSummary(msgspec.Struct, frozen=True):
    """One RR type's share of a result: records, observations, and its window (traffic, else zone)."""

    rrtype: str
    records: int
    count: int
    time_first: int
    time_last: int


class SightingSummary(msgspec.Struct, frozen=True):
    """One ``(sensor, evidence)`` pair's share of a result (``records`` None when read from the per-name rollup,
    which keeps counts and windows per provenance, not record counts)."""

    sensor: str
    evidence: str
    records: int | None
    count: int
    time_first: int
    time_last: int


class RecordSummary(msgspec.Struct, frozen=True):
    """A whole result summarized, like DNSDB's ``summarize`` (``Store.summarize``).

    ``time_first``/``time_last`` is the traffic window (None when every record was seen only in zone files),
    ``zone_time_*`` the zone-file window. ``first_days``/``last_days`` count records by the UTC day
    (epoch seconds of its midnight) of their first and last sighting, so charts over the whole history need
    no record rows. ``limited``: more than the scan bound matched, so every figure covers only the first
    ``records`` rows in the key's order (a lower bound, to be labelled so).
    """

    records: int
    count: int
    names: int
    rrsets: int | None
    time_first: int | None
    time_last: int | None
    zone_time_first: int | None
    zone_time_last: int | None
    by_type: list[TypeSummary]
    sightings: list[SightingSummary]
    top_names: list[NameSummary]
    first_days: list[tuple[int, int]]
    last_days: list[tuple[int, int]]
    limited: bool


class NameRollup(msgspec.Struct, frozen=True):
    """Exact whole-history figures of one owner name, or of every name below an apex (``Store.name_rollup``).

    Read from the per-name rollup the writer keeps (``storage/rollup.py``), so their cost does not grow with the
    name's records. ``time_*`` is the traffic window (None when every record was seen only in zone files),
    ``zone_time_*`` the zone-file window; ``seen_by`` is summed per sensor, evidence and source (as
    ``name_provenance``); ``top_names`` the busiest names by count (below an apex only). ``exact`` is False on a
    backend without a rollup, whose figures come from a bounded scan (lower bounds).
    """

    names: int
    records: int
    rrsets: int
    count: int
    time_first: int | None
    time_last: int | None
    zone_time_first: int | None
    zone_time_last: int | None
    by_type: list[TypeSummary]
    top_names: list[NameSummary]
    seen_by: list[Provenance]
    exact: bool = True


RankKey = Literal["count", "time_first", "time_last"]
SUMMARY_SCAN_MAX = 100_000


class Discovery(msgspec.Struct, frozen=True):
    """A name's discovery: the first per-RR record of the name the store kept.

    ``seq`` is that record's row id, which orders discoveries as they were
    stored; ``first_seen``/``last_seen``/``records`` are the name's totals
    now (a backfill with an earlier sighting lowers ``first_seen``, and
    never makes a second discovery).
    """

    seq: int
    rrname: str
    first_seen: int
    last_seen: int
    records: int


class DiscoveryPage(msgspec.Struct, frozen=True):
    """Discoveries among the records stored after a sequence number, and how far the scan went."""

    rows: list[Discovery]
    scanned_to: int


class IngestBucket(msgspec.Struct, frozen=True):
    """Observations and new records ingested in one hour, per sensor."""

    hour: int
    sensor: str
    observations: int
    new_records: int


class Store(Protocol):
    """What the server needs from a record store."""

    name: str

    def migrate(self, through: int | None = None) -> list[str]:
        """Apply pending schema migrations (up to version ``through``, when given); return the names applied."""
        ...

    def write(
        self, observations: Sequence[Observation], batch: BatchRef | None = None, then: Sequence[Then] = ()
    ) -> WriteOutcome:
        """Apply normalized observations atomically and at most once per batch id; each of ``then``'s hooks runs
        after the commit and before this returns (``CommitHook``)."""
        ...

    def records(self, query: RecordQuery) -> Page[Record]:
        """One page of per-RR records."""
        ...

    def iter_records(self, query: RecordQuery) -> Iterator[Record]:
        """Every matching record (up to ``query.limit``), streamed in pages with flat memory."""
        ...

    def rrsets(self, query: RecordQuery) -> Page[RRsetRecord]:
        """One page of RRset records; the query must match on ``rrname``."""
        ...

    def iter_rrsets(self, query: RecordQuery) -> Iterator[RRsetRecord]:
        """Every matching RRset (up to ``query.limit``), streamed."""
        ...

    def iter_flex(self, query: FlexQuery) -> Iterator[FlexRow]:
        """Flex search (``storage/flex.py``): distinct names or rdata matching a regex or glob, streamed
        in a stable order; ``FlexTimeoutError`` after the rows found when the time budget runs out."""
        ...

    def negatives(self, query: RecordQuery) -> Page[NegativeRecord]:
        """One page of negative-answer records; the query must match on ``rrname``."""
        ...

    def queries(self, query: RecordQuery) -> Page[QueryRecord]:
        """One page of bare-query records; the query must match on ``rrname``."""
        ...

    def provenance(self, rrname: str, rrtype: str, rdata: str) -> list[Provenance]:
        """Who saw one record, by what evidence and source."""
        ...

    def samples(self, rrname: str, rrtype: str, rdata: str) -> list[SampleLink]:
        """The sandbox samples linked to one record."""
        ...

    def sensors(self) -> list[str]:
        """Every sensor name that has written observations."""
        ...

    def name_provenance(self, rrname: str) -> list[Provenance]:
        """Who saw any record of one owner name, summed per sensor, evidence and source."""
        ...

    def name_samples(self, rrname: str, limit: int = 100) -> list[SampleLink]:
        """The sandbox samples linked to any record of one owner name."""
        ...

    def new_names(self, since: int, limit: int = 50) -> list[NameSummary]:
        """Names whose first record was first seen at or after ``since`` (index-bounded)."""
        ...

    def discoveries(self, after: int, scan: int = 10_000, within: str | None = None) -> DiscoveryPage:
        """Names first stored among the next ``scan`` records after sequence ``after``, in storage order
        (``within``: only names equal to or under that name). Continue from ``scanned_to``."""
        ...

    def first_under(self, name: str, seq: int) -> bool:
        """Whether no record of ``name`` or any name below it was stored before sequence ``seq``
        (a registered domain is newly observed at the discovery ``seq`` of a name under it)."""
        ...

    def readdressed(self, after: int, scan: int = 10_000) -> tuple[list[str], int]:
        """Names that got a new A, AAAA or CNAME record among the next ``scan`` records stored after sequence
        ``after`` (in storage order, each once), and the sequence the scan reached (the candidates whose flux
        and re-pointing may have changed)."""
        ...

    def scan_top_names(self, limit: int = 100) -> list[NameSummary]:
        """The most observed names: a full scan, for a background refresh only."""
        ...

    def summarize(
        self, query: RecordQuery, scan_max: int = SUMMARY_SCAN_MAX, top: int = 10, sightings: bool = True
    ) -> RecordSummary:
        """The whole result of ``query`` (its key, filters and fences; not its cursor or limit) summarized, reading
        at most ``scan_max`` records by the key's index; ``top`` busiest names (by count) are listed; the
        per-sensor breakdown (a join per record) only when ``sightings``."""
        ...

    def name_rollup(self, name: str, below: bool = False, top: int = 10, seen_by: bool = True) -> NameRollup:
        """The whole-history figures of the exact owner name ``name``, or (``below``) of every name strictly under
        it, with its ``top`` busiest names; ``seen_by`` the per-provenance breakdown. Kept by the writer: the
        cost is one name's rollup rows, or the key range of the names below, never their records."""
        ...

    def count_records(self, query: RecordQuery, cap: int) -> int:
        """How many records match ``query`` (key, filters, fences; not cursor or limit), counting at most ``cap``
        (a result of ``cap`` means "at least"); without filters or fences only the key's index is read."""
        ...

    def ranked_records(
        self, query: RecordQuery, key: RankKey, descending: bool = True, scan_max: int = SUMMARY_SCAN_MAX
    ) -> Page[Record]:
        """``query.limit`` records from ``query.offset`` on, ordered by ``key`` over the whole result (ties by name,
        type, rdata), reading at most ``scan_max`` records by the key's index; no cursor (offset paging)."""
        ...

    def ingest_history(self, since: int) -> list[IngestBucket]:
        """Hourly ingest counters from ``since`` (epoch seconds) on."""
        ...

    def stats(self) -> StoreStats:
        """Totals for operators."""
        ...

    # Address context (storage/context.py has the guarantees; ContextSql the SQL implementation).

    def address_feed(self, cursor: str | None, limit: int) -> AddressPage:
        """Up to ``limit`` rows' addresses of per-RR A/AAAA records written after ``cursor`` (None: from the
        start), in write order, deduplicated within the page; ``next_cursor`` None when there is nothing new."""
        ...

    def add_ip_context(self, rows: Sequence[IpContextRow]) -> int:
        """Keep each row that changes its address's history for its source (never overwrite); return how many."""
        ...

    def ip_context(self, ips: Sequence[str]) -> dict[str, list[IpContextRow]]:
        """Every kept context row of these addresses, per address, ordered by source then data date."""
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...


class WriteBatch(msgspec.Struct):
    """What a backend's writer applies in one transaction: observations and their batch refs."""

    observations: list[Observation]
    batches: list[BatchRef]


PAGE_SIZE = 1000


def iterate_pages(fetch: Callable[[RecordQuery], Page[T]], query: RecordQuery) -> Iterator[T]:
    """Stream up to ``query.limit`` rows of ``fetch`` by walking cursor pages of ``PAGE_SIZE``.

    The first page honours ``query.offset``; later pages continue from the cursor.
    """
    remaining = query.limit
    page_query = msgspec.structs.replace(query, limit=min(PAGE_SIZE, remaining))
    while remaining > 0:
        page = fetch(page_query)
        yield from page.rows[:remaining]
        remaining -= len(page.rows)
        if not page.limited or page.next_cursor is None:
            return
        page_query = msgspec.structs.replace(
            page_query, cursor=page.next_cursor, offset=0, limit=min(PAGE_SIZE, max(remaining, 1))
        )


def chunked(items: Sequence[Observation], size: int) -> Iterator[Sequence[Observation]]:
    """Split a long sequence of observations into slices of ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
