"""Retention on ClickHouse: prune whole records whose last sighting is older than a cut-off.

A record's rows (every provenance, every partial state not yet merged) are deleted together, or not at
all: the partial states of a live record are never trimmed, since that would move its first sighting and
lower its count. Partition drops cannot give that (a record's states are spread over every partition it was
written in), and table TTLs (ClickHouse 19.6+) see rows, not records; so the store:

1. computes the expired keys from the merged states (``HAVING last < before``: records by their time
   window, zone-file times when seen only in zones; RRsets, negatives, bare queries, sample links and hourly
   ingest rows by their own last time) into a ``prune_keys`` ``Log`` table on every node;
2. runs ``ALTER TABLE ... DELETE WHERE key IN (SELECT ... FROM prune_keys)`` (a mutation, 18.16 has them)
   on ``entry`` and ``rdx`` of one replica per shard (replicated tables pass it on), and waits for it.

While a mutation runs, a read may see an expiring record with some of its rows already gone. A sighting
written between steps 1 and 2 to a record that step 1 found expired is deleted with it.
"""

from __future__ import annotations

import time
from typing import Any

from yapdns.core.errors import ConfigurationError
from yapdns.storage.clickhouse.schema import NONE_MAX, Kind
from yapdns.storage.clickhouse.select import LAST
from yapdns.storage.clickhouse.topology import Topology
from yapdns.storage.prune import PruneReport, RetentionPolicy

MUTATION_TIMEOUT = 300.0
_RECORD_KINDS = (Kind.RRSET, Kind.NAME_SAMPLE)  # aged by records_before (sample links go with their record)
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

    Type rules apply as on the other backends (``prune_rules.py``), and so does the longer age of records
    linked to a sandbox sample (``samples_before``); a record's sample links go with it. A policy with
    sensor or evidence rules is refused: ClickHouse does not apply them yet, and pruning at the records' age
    would lose what the policy keeps.
    """
    by_provenance = [r.label for r in policy.rules if r.kind != "type"]
    if by_provenance:
        raise ConfigurationError(
            f"ClickHouse applies retention rules per RR type only, not {', '.join(by_provenance)}: "
            "remove them from YAPDNS_RETENTION_RULES"
        )
    keys = _expired(topo, policy)
    report = PruneReport(dry_run=dry_run, by_rule={r.label: 0 for r in policy.rules})
    for key in keys:
        field = _REPORT_FIELDS.get(Kind(key[0]))
        if field:
            setattr(report, field, getattr(report, field) + 1)
            for rule in policy.rules:
                report.by_rule[rule.label] += field != "name_samples" and key[2] == rule.key
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


def _expired(topo: Topology, policy: RetentionPolicy) -> list[tuple[int, str, int, str, str]]:
    """The keys to delete: ``(kind, rrname_rev, rrtype, k1, k2)``; a ``None`` cut-off keeps its kinds."""
    db = topo.database
    types = _TypeCutoffs(policy)
    records: list[tuple[Any, ...]] = []
    grouped: list[tuple[Any, ...]] = []
    hours: list[tuple[Any, ...]] = []
    if policy.records_before is not None or types.codes:
        records = _records(topo, types, policy.samples_before)
        grouped = _grouped(topo, _RECORD_KINDS, types.record_cutoff(), types.params) + _sample_links(topo, records)
    if policy.records_before is not None:
        hours = topo.main.rows(
            f"SELECT rrname_rev, k1 FROM {db}.entry WHERE kind = {int(Kind.HOUR)} GROUP BY rrname_rev, k1 "
            "HAVING minMerge(tf) + 3600 <= %(before)s",
            types.params,
        )
    if policy.negatives_before is not None or types.codes:
        grouped += _grouped(topo, _NEGATIVE_KINDS, types.negative_cutoff(), types.params)
    out = [(int(Kind.RR), str(n), int(t), str(r), "") for n, t, r in records]
    out += [(int(k), str(n), int(t), str(a), str(b)) for k, n, t, a, b in grouped]
    out += [(int(Kind.HOUR), str(s), 0, str(h), "") for s, h in hours]
    return out


def _records(topo: Topology, types: _TypeCutoffs, linked_before: int | None) -> list[tuple[Any, ...]]:
    """Expired records ``(rrname_rev, rrtype, rdata)``; with ``linked_before``, a record linked to a sandbox
    sample only when last seen before that too."""
    db = topo.database
    rows = topo.main.rows(
        f"SELECT rrname_rev, rrtype, k1, {LAST} FROM {db}.entry WHERE kind = {int(Kind.RR)} "
        f"GROUP BY rrname_rev, rrtype, k1 HAVING {LAST} < {types.record_cutoff()}",
        types.params,
    )
    if linked_before is None:
        return [(n, t, r) for n, t, r, _ in rows]
    linked = {(str(n), int(t), str(r)) for n, t, r in topo.main.rows(
        f"SELECT DISTINCT rrname_rev, rrtype, k1 FROM {db}.entry WHERE kind = {int(Kind.SAMPLE)}")}
    return [(n, t, r) for n, t, r, last in rows if last < linked_before or (str(n), int(t), str(r)) not in linked]


def _sample_links(topo: Topology, records: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The sample-link keys ``(kind, rrname_rev, rrtype, rdata, sample)`` of the expired ``records``."""
    if not records:
        return []
    expired = {(str(n), int(t), str(r)) for n, t, r in records}
    links = topo.main.rows(f"SELECT DISTINCT rrname_rev, rrtype, k1, k2 FROM {topo.database}.entry "
                           f"WHERE kind = {int(Kind.SAMPLE)}")
    return [(int(Kind.SAMPLE), n, t, r, k2) for n, t, r, k2 in links if (str(n), int(t), str(r)) in expired]


class _TypeCutoffs:
    """A policy's cut-offs per RR type as ClickHouse expressions over ``rrtype`` (0 keeps for ever)."""

    def __init__(self, policy: RetentionPolicy) -> None:
        chosen = [r for r in policy.rules if r.kind == "type"]
        self.codes = [int(str(r.key)) for r in chosen]
        self.params: dict[str, Any] = {
            "before": policy.records_before or 0,
            "negatives": policy.negatives_before or 0,
            "codes": self.codes,
            "cuts": [r.before for r in chosen],
        }

    def record_cutoff(self) -> str:
        """A type rule's cut-off, else the records' own."""
        if not self.codes:
            return "%(before)s"
        return "transform(toUInt16(rrtype), CAST(%(codes)s AS Array(UInt16)), CAST(%(cuts)s AS Array(Int64)), " \
               "toInt64(%(before)s))"

    def negative_cutoff(self) -> str:
        """The negatives' own cut-off, moved later (shortened) by a matching type rule, never earlier."""
        if not self.codes:
            return "%(negatives)s"
        return "greatest(toInt64(%(negatives)s), transform(toUInt16(rrtype), CAST(%(codes)s AS Array(UInt16)), " \
               "CAST(%(cuts)s AS Array(Int64)), toInt64(0)))"


def _grouped(topo: Topology, kinds: tuple[Kind, ...], cutoff: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Keys of ``kinds`` whose last time (traffic, else zone) is before ``cutoff`` (an expression)."""
    return topo.main.rows(
        f"SELECT kind, rrname_rev, rrtype, k1, k2 FROM {topo.database}.entry WHERE kind IN "
        f"({', '.join(str(int(k)) for k in kinds)}) GROUP BY kind, rrname_rev, rrtype, k1, k2 "
        f"HAVING if(maxMerge(tl) != {NONE_MAX}, maxMerge(tl), maxMerge(ztl)) < {cutoff}",
        params,
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
