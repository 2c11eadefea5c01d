"""Retention on ClickHouse: prune whole records whose last sighting is older than a cut-off.

A record's rows (every provenance, every partial state not yet merged) are deleted together, or not at
all: the partial states of a live record are never trimmed, since that would move its first sighting and
lower its count. Partition drops cannot give that (a record's states are spread over every partition it was
written in), and table TTLs (ClickHouse 19.6+) see rows, not records; so the store:

1. computes the expired keys from the merged states (``HAVING last < before``: records by their time
   window, zone-file times when seen only in zones; RRsets, negatives, bare queries, sample links and hourly
   ingest rows by their own last time) into a ``prune_keys`` ``Log`` table on every node;
2. runs ``ALTER TABLE ... DELETE WHERE key IN (SELECT ... FROM prune_keys)`` (a mutation, 18.16 has them)
   on ``entry`` and ``rdx`` of one replica per shard (replicated tables pass it on), and on the expired
   records' sequence rows (``seq_log``, ``seq_first``: seen again, such a record is new again), and waits.

While a mutation runs, a read may see an expiring record with some of its rows already gone. A sighting
written between steps 1 and 2 to a record that step 1 found expired is deleted with it.
"""

from __future__ import annotations

import time
from typing import Any

from yapdns.core.errors import ConfigurationError
from yapdns.storage.clickhouse.schema import NONE_MAX, Kind
from yapdns.storage.clickhouse.select import LAST
from yapdns.storage.clickhouse.sequence import ADDRESS_TYPES
from yapdns.storage.clickhouse.topology import Topology
from yapdns.storage.prune import PruneReport, RetentionPolicy

MUTATION_TIMEOUT = 300.0
_RECORD_KINDS = (Kind.RRSET, Kind.SAMPLE, Kind.NAME_SAMPLE)  # aged by records_before
_NEGATIVE_KINDS = (Kind.NEGATIVE, Kind.QUERY)  # aged by negatives_before
_REPORT_FIELDS = {
    Kind.RR: "records",
    Kind.RRSET: "rrsets",
    Kind.NEGATIVE: "negatives",
    Kind.QUERY: "queries",
    Kind.NAME_SAMPLE: "name_samples",
}


def prune(topo: Topology, policy: RetentionPolicy, dry_run: bool = False) -> PruneReport:
    """Delete (or, with ``dry_run``, count) every record, RRset, sample link and hourly row last seen before
    ``policy.records_before``, and every negative answer and bare query before ``policy.negatives_before``.

    A policy that keeps sandbox-linked records longer (``samples_before``) is refused: ClickHouse does not
    apply it yet, and pruning them at the records' age would lose what the policy keeps.
    """
    if policy.samples_before is not None and policy.samples_before != policy.records_before:
        raise ConfigurationError(
            "ClickHouse does not keep sandbox-linked records longer yet: unset YAPDNS_RETENTION_SAMPLE_DAYS"
        )
    keys = _expired(topo, policy.records_before, policy.negatives_before)
    report = PruneReport(dry_run=dry_run)
    for key in keys:
        field = _REPORT_FIELDS.get(Kind(key[0]))
        if field:
            setattr(report, field, getattr(report, field) + 1)
    if keys and not dry_run:
        _delete(topo, keys)
    return report


def _delete(topo: Topology, keys: list[tuple[int, str, int, str, str]]) -> None:
    db = topo.database
    columns = [[k[i] for k in keys] for i in range(5)]
    for node in topo.nodes:
        node.command(f"DROP TABLE IF EXISTS {db}.prune_keys")
        node.command(
            f"CREATE TABLE {db}.prune_keys (kind UInt8, rrname_rev String, rrtype UInt16, k1 String, k2 String) "
            "ENGINE = Log"
        )
        node.insert("prune_keys", ("kind", "rrname_rev", "rrtype", "k1", "k2"), columns)
    for shard in topo.shards:
        shard.command(
            f"ALTER TABLE {db}.{topo.local('entry')} DELETE WHERE (kind, rrname_rev, rrtype, k1, k2) IN "
            f"(SELECT kind, rrname_rev, rrtype, k1, k2 FROM {db}.prune_keys) OR (kind = {int(Kind.RR)} AND "
            f"(rrname_rev, rrtype, k1) IN (SELECT rrname_rev, rrtype, k1 FROM {db}.prune_keys WHERE kind = "
            f"{int(Kind.RR)}))"
        )
        shard.command(
            f"ALTER TABLE {db}.{topo.local('rdx')} DELETE WHERE (rrname_rev, rrtype, rdata) IN "
            f"(SELECT rrname_rev, rrtype, k1 FROM {db}.prune_keys WHERE kind = {int(Kind.RR)})"
        )
    _wait(topo)
    _delete_sequence(topo, keys)


def _delete_sequence(topo: Topology, keys: list[tuple[int, str, int, str, str]]) -> None:
    """Drop the sequence rows of the pruned records (seen again, such a record is new again): an address record's
    own, and the ``(name, type)`` row of other types once no record of that name and type is left."""
    db = topo.database
    gone = {(n, t, r if t in ADDRESS_TYPES else "") for kind, n, t, r, _ in keys if kind == int(Kind.RR)}
    live = {
        (str(n), int(t), "")
        for n, t in topo.main.rows(
            f"SELECT DISTINCT rrname_rev, rrtype FROM {db}.entry WHERE kind = {int(Kind.RR)} AND (rrname_rev, rrtype) "
            f"GLOBAL IN (SELECT rrname_rev, rrtype FROM {db}.prune_keys WHERE kind = {int(Kind.RR)})"
        )
    }
    rows = sorted(gone - live)
    if not rows:
        return
    first = topo.shards[0]
    first.command(f"DROP TABLE IF EXISTS {db}.prune_seq")
    first.command(f"CREATE TABLE {db}.prune_seq (rrname_rev String, rrtype UInt16, rdata String) ENGINE = Log")
    first.insert("prune_seq", ("rrname_rev", "rrtype", "rdata"), [list(c) for c in zip(*rows, strict=True)])
    for table in ("seq_log", "seq_first"):
        first.command(
            f"ALTER TABLE {db}.{table} DELETE WHERE (rrname_rev, rrtype, rdata) IN "
            f"(SELECT rrname_rev, rrtype, rdata FROM {db}.prune_seq)"
        )
    _wait(topo)
    first.insert("prune_epoch", ("at",), [[int(time.time())]])  # writers forget the keys they numbered


def _expired(
    topo: Topology, records_before: int | None, negatives_before: int | None
) -> list[tuple[int, str, int, str, str]]:
    """The keys to delete: ``(kind, rrname_rev, rrtype, k1, k2)``; a ``None`` cut-off keeps its kinds."""
    db = topo.database
    records: list[tuple[Any, ...]] = []
    grouped: list[tuple[Any, ...]] = []
    hours: list[tuple[Any, ...]] = []
    if records_before is not None:
        params = {"before": records_before}
        records = topo.main.rows(
            f"SELECT rrname_rev, rrtype, k1 FROM {db}.entry WHERE kind = {int(Kind.RR)} "
            f"GROUP BY rrname_rev, rrtype, k1 HAVING {LAST} < %(before)s",
            params,
        )
        grouped = _grouped(topo, _RECORD_KINDS, records_before)
        hours = topo.main.rows(
            f"SELECT rrname_rev, k1 FROM {db}.entry WHERE kind = {int(Kind.HOUR)} GROUP BY rrname_rev, k1 "
            "HAVING minMerge(tf) + 3600 <= %(before)s",
            params,
        )
    if negatives_before is not None:
        grouped += _grouped(topo, _NEGATIVE_KINDS, negatives_before)
    out = [(int(Kind.RR), str(n), int(t), str(r), "") for n, t, r in records]
    out += [(int(k), str(n), int(t), str(a), str(b)) for k, n, t, a, b in grouped]
    out += [(int(Kind.HOUR), str(s), 0, str(h), "") for s, h in hours]
    return out


def _grouped(topo: Topology, kinds: tuple[Kind, ...], before: int) -> list[tuple[Any, ...]]:
    """Keys of ``kinds`` whose last time (traffic, else zone) is before ``before``."""
    return topo.main.rows(
        f"SELECT kind, rrname_rev, rrtype, k1, k2 FROM {topo.database}.entry WHERE kind IN "
        f"({', '.join(str(int(k)) for k in kinds)}) GROUP BY kind, rrname_rev, rrtype, k1, k2 "
        f"HAVING if(maxMerge(tl) != {NONE_MAX}, maxMerge(tl), maxMerge(ztl)) < %(before)s",
        {"before": before},
    )


def _wait(topo: Topology) -> None:
    """Until every mutation of the store's tables is done on every node."""
    deadline = time.monotonic() + MUTATION_TIMEOUT
    for node in topo.nodes:
        while time.monotonic() < deadline:
            ((pending,),) = node.rows(
                "SELECT count() FROM system.mutations WHERE database = %(db)s AND NOT is_done", {"db": topo.database}
            )
            if not int(pending):
                break
            time.sleep(0.05)
