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
Rules per RR
type, sensor and evidence kind (``prune_rules.py``) refine the cutoffs row by
row; a chunk reads its condition once (count, then delete the rows) and removes
the children whose parent is gone after, so a rule that looks at a record's
provenance rows sees them all.

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
from yapdns.storage.prune_rules import Fragment, RetentionRule, RuleSql, parse_rules
from yapdns.storage.rollup import rebuild_names

CHUNK = 20_000
Drain = Callable[[MigrationDb], object]  # the backend's rollup journal drain, in the caller's transaction
DAY = 86_400


class RetentionPolicy(msgspec.Struct, frozen=True):
    """Cutoffs (epoch seconds): rows whose ``time_last`` is before one go; ``None`` keeps them for ever.

    ``rules`` give their own ages per RR type, sensor and evidence kind (``prune_rules.py``)."""

    records_before: int | None = None  # per-RR records, RRsets, sample links
    negatives_before: int | None = None  # negative answers and bare queries
    samples_before: int | None = None  # records linked to a sandbox sample, when kept longer (None: as records)
    rules: tuple[RetentionRule, ...] = ()

    @classmethod
    def from_days(
        cls, days: int, negative_days: int | None = None, sample_days: int | None = None, now: float | None = None,
        rules: Sequence[str] = (),
    ) -> RetentionPolicy:
        """Keep ``days`` (0: for ever); ``negative_days`` for negatives and bare queries and ``sample_days`` for
        sandbox-linked records (None: ``days``; 0: for ever); ``rules`` as ``KIND:VALUE=DAYS`` items."""
        current = int(now if now is not None else time.time())
        neg = days if negative_days is None else negative_days
        linked = None if sample_days is None or days <= 0 else max(current - sample_days * DAY, 0) if sample_days else 0
        return cls(current - days * DAY if days > 0 else None, current - neg * DAY if neg > 0 else None, linked,
                   parse_rules(rules, current))

    @classmethod
    def configured(
        cls, days: int | None = None, negative_days: int | None = None, sample_days: int | None = None,
        rules: Sequence[str] | None = None,
    ) -> RetentionPolicy:
        """The policy of the ``YAPDNS_RETENTION_*`` settings, each overridable."""
        keep = config.get_int("YAPDNS_RETENTION_DAYS") if days is None else days
        if negative_days is None and config.get("YAPDNS_RETENTION_NEGATIVE_DAYS").strip():
            negative_days = config.get_int("YAPDNS_RETENTION_NEGATIVE_DAYS")
        if sample_days is None and config.get("YAPDNS_RETENTION_SAMPLE_DAYS").strip():
            sample_days = config.get_int("YAPDNS_RETENTION_SAMPLE_DAYS")
        chosen = (config.get("YAPDNS_RETENTION_RULES"),) if rules is None else rules
        return cls.from_days(keep, negative_days, sample_days, rules=chosen)

    @property
    def active(self) -> bool:
        return self.records_before is not None or self.negatives_before is not None or bool(self.rules)


class PruneReport(msgspec.Struct):
    """What a prune removed (or, with ``dry_run``, would remove), per kind."""

    records: int = 0
    rrsets: int = 0
    negatives: int = 0
    queries: int = 0
    name_samples: int = 0
    dry_run: bool = False
    by_rule: dict[str, int] = msgspec.field(default_factory=dict)  # rows each rule applies to, of those counted


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


@dataclass(frozen=True)
class Expiry:
    """Which rows of one table a policy expires: ``time_last`` before ``below`` (a cheap first filter) and
    ``condition``; with ``linked_before``, a record linked to a sandbox sample only before that."""

    table: _Table
    below: int
    condition: Fragment
    rules: tuple[tuple[str, Fragment], ...] = ()  # (label, the rows the rule applies to), for the report
    linked_before: int | None = None

    def where(self, start: int, stop: int) -> Fragment:
        name = self.table.name
        where = Fragment(f"{name}.id >= ? AND {name}.id < ? AND {name}.time_last < ?", (start, stop, self.below))
        where = where & self.condition
        if self.linked_before is not None and "rr_sample" in self.table.children:
            where = where & Fragment(f"{name}.time_last < ? OR NOT EXISTS "
                                     f"(SELECT 1 FROM rr_sample s WHERE s.rr_id = {name}.id)", (self.linked_before,))
        return where


def expiry_for(table: _Table, policy: RetentionPolicy) -> Expiry | None:
    """The rows of ``table`` that ``policy`` expires (None: none can be)."""
    sql = RuleSql(policy.rules)
    base = (policy.negatives_before if table.negative else policy.records_before) or 0
    below = max([base, *(r.before for r in policy.rules)])
    if below <= 0:
        return None
    condition = sql.negative_expired(table.name, base) if table.negative else sql.record_expired(table.name, base)
    labelled = ((r.label, sql.matches(r, table.name)) for r in policy.rules)
    return Expiry(table, below, condition, tuple((k, m) for k, m in labelled if m is not None), policy.samples_before)


def prune_chunk(db: MigrationDb, expiry: Expiry, start: int, top: int, dry_run: bool,
                count_sum: str = "sum({0})", drain: Drain | None = None) -> tuple[int, dict[str, int]]:
    """Remove the expired rows of a table with ids in ``[start, start + CHUNK)``; return how many, and how many
    of them each rule applies to.

    ``top`` is the table's highest id when the prune began; with ``keep_top`` that row stays. The rows go
    first and their children after (by the missing parent), so the condition is read once, before any delete.
    Records and RRsets leave the per-name rollup with them (``count_sum``: the dialect's saturating sum;
    ``drain``: the backend's rollup journal drain, run first in the same transaction).
    """
    table = expiry.table
    stop = min(start + CHUNK, top if table.keep_top else top + 1)
    where = expiry.where(start, stop)
    ((count,),) = db.rows(f"SELECT count(*) FROM {table.name} WHERE {where.sql}", where.params)
    if not count:
        return 0, {}
    per_rule = {}
    for label, match in expiry.rules:
        both = where & match
        ((per_rule[label],),) = db.rows(f"SELECT count(*) FROM {table.name} WHERE {both.sql}", both.params)
    if dry_run:
        return int(count), per_rule
    rolled = table.kind in ("records", "rrsets")
    names = [rev for (rev,) in db.rows(f"SELECT DISTINCT rrname_rev FROM {table.name} WHERE {where.sql}",
                                       where.params)] if rolled else []
    if table.by_type:
        for rrtype, n in db.rows(f"SELECT rrtype, count(*) FROM {table.name} WHERE {where.sql} GROUP BY rrtype",
                                 where.params):
            db.run("UPDATE type_count SET records = records - ? WHERE rrtype = ?", (n, rrtype))
    db.run(f"DELETE FROM {table.name} WHERE {where.sql}", where.params)
    for child in table.children:
        db.run(f"DELETE FROM {child} WHERE rr_id >= ? AND rr_id < ? AND NOT EXISTS "
               f"(SELECT 1 FROM {table.name} WHERE {table.name}.id = {child}.rr_id)", (start, stop))
    db.run("UPDATE counter SET value = value - ? WHERE name = ?", (count, table.kind))
    if names:
        rebuild_names(db, names, count_sum, drain)
    return int(count), per_rule


def prune_name_samples(db: MigrationDb, cutoff: int, dry_run: bool) -> int:
    """Name-to-sample links (a small table) whose ``time_last`` is before ``cutoff``."""
    ((count,),) = db.rows("SELECT count(*) FROM name_sample WHERE time_last < ?", (cutoff,))
    if count and not dry_run:
        db.run("DELETE FROM name_sample WHERE time_last < ?", (cutoff,))
    return int(count)


def apply_policy(transact: Callable[[Callable[[MigrationDb], Any]], Any], policy: RetentionPolicy,
                 dry_run: bool = False, count_sum: str = "sum({0})", drain: Drain | None = None) -> PruneReport:
    """Apply ``policy`` chunk by chunk; ``transact(fn)`` runs ``fn`` in one write transaction and returns its
    result (each backend runs it on its writer, between ingest groups); ``count_sum`` is the dialect's
    saturating sum (``Dialect.count_sum``'s template)."""
    report = PruneReport(dry_run=dry_run, by_rule={r.label: 0 for r in policy.rules})
    for table in TABLES:
        expiry = expiry_for(table, policy)
        if expiry is None:
            continue
        low, top = transact(partial(id_range, table=table.name))
        removed = 0
        for start in range(low, top + 1, CHUNK):
            count, per_rule = transact(partial(prune_chunk, expiry=expiry, start=start, top=top, dry_run=dry_run,
                                               count_sum=count_sum, drain=drain))
            removed += count
            for label, n in per_rule.items():
                report.by_rule[label] += int(n)
        setattr(report, table.kind, removed)
    if policy.records_before is not None:
        report.name_samples = transact(partial(prune_name_samples, cutoff=policy.records_before, dry_run=dry_run))
    return report
