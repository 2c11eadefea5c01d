"""Retention: removing records whose ``time_last`` is older than the policy, whole, in bounded chunks.

One piece of SQL serves SQLite and PostgreSQL (``?`` placeholders through
``migrations.ConnectionDb``). A record goes whole: its per-provenance rows
(``rr_seen``) and sample links (``rr_sample``) with it, and the per-type and
total counters follow, so ``stats()`` and the dashboard stay consistent.
RRsets, negative answers, bare queries and name-sample links go by their own
``time_last``; negatives and bare queries may have their own, shorter, age.
Nothing with ``time_last`` at or after the cutoff is touched, except the
per-name rollup (``storage/rollup.py``): the rows of every name that lost a
record or an RRset are recomputed from what remains, in the same transaction.

Chunks: each call handles one range of row ids (``CHUNK`` ids) in one
transaction, so a prune never holds the writer for long and ingest goes on
between chunks; no index on ``time_last`` is needed (it would cost every
ingest update). The row with the highest id of ``rr`` and ``rrset`` is never
deleted: SQLite hands out ``max(id) + 1`` for new rows, so ids of pruned
rows are never reused, and a writer that still remembers one
(``sqlite/rowcache.py``), in this process or another, finds the row gone
(``StaleRowIds``) and applies its group again without its cache, instead of
updating some other record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, runtime_checkable

import msgspec

from yapdns import config
from yapdns.storage.migrations import MigrationDb
from yapdns.storage.rollup import rebuild_names

CHUNK = 20_000
DAY = 86_400


class RetentionPolicy(msgspec.Struct, frozen=True):
    """Cutoffs (epoch seconds): rows whose ``time_last`` is before one go; ``None`` keeps them for ever."""

    records_before: int | None = None  # per-RR records, RRsets, sample links
    negatives_before: int | None = None  # negative answers and bare queries
    samples_before: int | None = None  # records linked to a sandbox sample, when kept longer (None: as records)

    @classmethod
    def from_days(
        cls, days: int, negative_days: int | None = None, sample_days: int | None = None, now: float | None = None
    ) -> RetentionPolicy:
        """Keep ``days`` (0: for ever); ``negative_days`` for negatives and bare queries and ``sample_days`` for
        sandbox-linked records (None: ``days``; 0: for ever)."""
        current = int(now if now is not None else time.time())
        neg = days if negative_days is None else negative_days
        linked = None if sample_days is None or days <= 0 else max(current - sample_days * DAY, 0) if sample_days else 0
        return cls(current - days * DAY if days > 0 else None, current - neg * DAY if neg > 0 else None, linked)

    @classmethod
    def configured(
        cls, days: int | None = None, negative_days: int | None = None, sample_days: int | None = None
    ) -> RetentionPolicy:
        """The policy of the ``YAPDNS_RETENTION_*`` settings, each overridable."""
        keep = config.get_int("YAPDNS_RETENTION_DAYS") if days is None else days
        if negative_days is None and config.get("YAPDNS_RETENTION_NEGATIVE_DAYS").strip():
            negative_days = config.get_int("YAPDNS_RETENTION_NEGATIVE_DAYS")
        if sample_days is None and config.get("YAPDNS_RETENTION_SAMPLE_DAYS").strip():
            sample_days = config.get_int("YAPDNS_RETENTION_SAMPLE_DAYS")
        return cls.from_days(keep, negative_days, sample_days)

    @property
    def active(self) -> bool:
        return self.records_before is not None or self.negatives_before is not None


class PruneReport(msgspec.Struct):
    """What a prune removed (or, with ``dry_run``, would remove), per kind."""

    records: int = 0
    rrsets: int = 0
    negatives: int = 0
    queries: int = 0
    name_samples: int = 0
    dry_run: bool = False


@dataclass(frozen=True)
class _Table:
    name: str
    kind: str  # the PruneReport field and the counter name
    negative: bool = False  # governed by negatives_before
    children: tuple[str, ...] = ()  # rows keyed by this table's id (``rr_id``)
    by_type: bool = False  # keeps type_count up to date
    keep_top: bool = False  # never delete the highest id (ids are never reused)


TABLES = (
    _Table("rr", "records", children=("rr_seen", "rr_sample"), by_type=True, keep_top=True),
    _Table("rrset", "rrsets", keep_top=True),
    _Table("negative", "negatives", negative=True),
    _Table("qname", "queries", negative=True),
)


@runtime_checkable
class Prunable(Protocol):
    """A store that applies a retention policy (SQLite and PostgreSQL here; ClickHouse by TTL)."""

    def prune(self, policy: RetentionPolicy, *, dry_run: bool = False) -> PruneReport:
        """Remove (or count, with ``dry_run``) every row the policy expires, in chunks."""
        ...


def id_range(db: MigrationDb, table: str) -> tuple[int, int]:
    """The lowest and highest id of ``table`` ((0, -1) when empty)."""
    low, high = db.rows(f"SELECT min(id), max(id) FROM {table}")[0]
    return (int(low), int(high)) if low is not None else (0, -1)


def prune_chunk(
    db: MigrationDb, table: _Table, cutoff: int, start: int, top: int, dry_run: bool, linked_before: int | None = None,
    count_sum: str = "sum({0})",
) -> int:
    """Remove the expired rows of ``table`` with ids in ``[start, start + CHUNK)``; return how many.

    ``top`` is the table's highest id when the prune began; with ``keep_top`` that row stays. With
    ``linked_before``, a record linked to a sandbox sample goes only when its ``time_last`` is before that.
    Records and RRsets leave the per-name rollup with them (``count_sum``: the dialect's saturating sum).
    """
    stop = min(start + CHUNK, top if table.keep_top else top + 1)
    where = "id >= ? AND id < ? AND time_last < ?"
    params: Sequence[object] = (start, stop, cutoff)
    if linked_before is not None and "rr_sample" in table.children:
        where += f" AND (time_last < ? OR NOT EXISTS (SELECT 1 FROM rr_sample s WHERE s.rr_id = {table.name}.id))"
        params = (*params, linked_before)
    ((count,),) = db.rows(f"SELECT count(*) FROM {table.name} WHERE {where}", params)
    if not count or dry_run:
        return int(count)
    rolled = table.kind in ("records", "rrsets")
    names = [rev for (rev,) in db.rows(f"SELECT DISTINCT rrname_rev FROM {table.name} WHERE {where}", params)] \
        if rolled else []
    for child in table.children:
        db.run(f"DELETE FROM {child} WHERE rr_id IN (SELECT id FROM {table.name} WHERE {where})", params)
    if table.by_type:
        for rrtype, n in db.rows(f"SELECT rrtype, count(*) FROM {table.name} WHERE {where} GROUP BY rrtype", params):
            db.run("UPDATE type_count SET records = records - ? WHERE rrtype = ?", (n, rrtype))
    db.run(f"DELETE FROM {table.name} WHERE {where}", params)
    db.run("UPDATE counter SET value = value - ? WHERE name = ?", (count, table.kind))
    if names:
        rebuild_names(db, names, count_sum)
    return int(count)


def prune_name_samples(db: MigrationDb, cutoff: int, dry_run: bool) -> int:
    """Name-to-sample links (a small table) whose ``time_last`` is before ``cutoff``."""
    ((count,),) = db.rows("SELECT count(*) FROM name_sample WHERE time_last < ?", (cutoff,))
    if count and not dry_run:
        db.run("DELETE FROM name_sample WHERE time_last < ?", (cutoff,))
    return int(count)


def cutoff_for(table: _Table, policy: RetentionPolicy) -> int | None:
    return policy.negatives_before if table.negative else policy.records_before


def apply_policy(transact: Callable[[Callable[[MigrationDb], Any]], Any], policy: RetentionPolicy,
                 dry_run: bool = False, count_sum: str = "sum({0})") -> PruneReport:
    """Apply ``policy`` chunk by chunk; ``transact(fn)`` runs ``fn`` in one write transaction and returns its
    result (each backend runs it on its writer, between ingest groups); ``count_sum`` is the dialect's
    saturating sum (``Dialect.count_sum``'s template)."""
    report = PruneReport(dry_run=dry_run)
    for table in TABLES:
        cutoff = cutoff_for(table, policy)
        if cutoff is None:
            continue
        low, top = transact(partial(id_range, table=table.name))
        removed = 0
        for start in range(low, top + 1, CHUNK):
            step = partial(prune_chunk, table=table, cutoff=cutoff, start=start, top=top, dry_run=dry_run,
                           linked_before=policy.samples_before, count_sum=count_sum)
            removed += transact(step)
        setattr(report, table.kind, removed)
    if policy.records_before is not None:
        report.name_samples = transact(partial(prune_name_samples, cutoff=policy.records_before, dry_run=dry_run))
    return report
