"""Retention on ClickHouse: prune whole records whose last sighting is older than a cut-off.

A record's rows (every provenance, every partial state not yet merged) are deleted together, or not at
all: the partial states of a live record are never trimmed, since that would move its first sighting and
lower its count. Partition drops cannot give that (a record's states are spread over every partition it was
written in), and table TTLs (ClickHouse 19.6+) see rows, not records; so the store:

1. computes the expired keys from the merged states (``HAVING last < before``, the latest cut-off of any
   rule, with the provenance ids of each key; then ``prune_rules.RuleAges`` decides per key: records by
   their time window, zone-file times when seen only in zones, their sample links with them; RRsets,
   negatives, bare queries, name-sample links and hourly ingest rows by their own last time) into a
   ``prune_keys`` ``Log`` table on every node;
2. runs ``ALTER TABLE ... DELETE WHERE key IN (SELECT ... FROM prune_keys)`` (a mutation, 18.16 has them)
   on ``entry`` and ``rdx`` of one replica per shard (replicated tables pass it on), and on the expired
   records' sequence rows (``seq_log``, ``seq_first``: seen again, such a record is new again), and waits.

While a mutation runs, a read may see an expiring record with some of its rows already gone. A sighting
written between steps 1 and 2 to a record that step 1 found expired is deleted with it.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from yapdns.core.rrtypes import CNAME
from yapdns.storage.clickhouse.schema import NONE_MAX, Kind
from yapdns.storage.clickhouse.select import LAST
from yapdns.storage.clickhouse.sequence import WHOLE_TYPES
from yapdns.storage.clickhouse.topology import Topology
from yapdns.storage.prune import PruneReport, RetentionPolicy
from yapdns.storage.prune_rules import RuleAges

MUTATION_TIMEOUT = 300.0
Key = tuple[int, str, int, str, str]
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

    The rules per RR type, sensor and evidence kind (``prune_rules.py``) and the longer age of records
    linked to a sandbox sample (``samples_before``) apply as on the SQL stores; a record's sample links go
    with it. One difference: a negative answer or bare query is one key here for all the sensors that saw
    it, so it goes when every one of their ages has passed (the SQL stores keep a row per provenance).
    """
    expiry = _Expiry(topo, policy)
    keys = expiry.keys()
    report = PruneReport(dry_run=dry_run, by_rule={r.label: expiry.by_rule[r.label] for r in policy.rules})
    for key in keys:
        field = _REPORT_FIELDS.get(Kind(key[0]))
        if field:
            setattr(report, field, getattr(report, field) + 1)
    if keys and not dry_run:
        _delete(topo, keys)
    return report


def _delete(topo: Topology, keys: list[Key]) -> None:
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
    """Drop the sequence rows of the pruned records (seen again, such a record is new again): an address or CNAME
    record's own, and the ``(name, type)`` row of other types (and of CNAMEs numbered per name by an older
    writer) once no record of that name and type is left."""
    db = topo.database
    pruned = [(n, t, r) for kind, n, t, r, _ in keys if kind == int(Kind.RR)]
    gone = {(n, t, r if t in WHOLE_TYPES else "") for n, t, r in pruned}
    gone |= {(n, t, "") for n, t, _ in pruned if t == CNAME}  # a CNAME row an older writer numbered per name
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



class _Expiry:
    """The keys a policy expires: candidates come from ClickHouse (last seen before the latest cut-off of any
    rule), each with the provenances that saw it; ``RuleAges`` decides, as ``RuleSql`` does in SQL."""

    def __init__(self, topo: Topology, policy: RetentionPolicy) -> None:
        self.topo, self.policy = topo, policy
        self.ages = RuleAges(policy.rules)
        self.provs = _provenances(topo) if any(r.kind != "type" for r in policy.rules) else {}
        self.base, self.own = policy.records_before or 0, policy.negatives_before or 0
        self.latest = max([0, *(r.before for r in policy.rules)])
        self.by_rule: Counter[str] = Counter()

    def keys(self) -> list[Key]:
        """``(kind, rrname_rev, rrtype, k1, k2)`` of every expired key; a ``None`` cut-off keeps its kinds."""
        out = self._records()
        for kind, n, t, a, b, last, _ in _candidates(self.topo, _RECORD_KINDS, max(self.base, self.latest), True):
            if last < self.ages.record_cutoff(t, [], self.base):
                out.append(self._counted((int(kind), str(n), int(t), str(a), str(b)), []))
        for kind, n, t, a, b, last, seen in _candidates(self.topo, _NEGATIVE_KINDS, max(self.own, self.latest), True):
            if last < self.ages.negative_cutoff(t, self._seen(seen), self.own):
                out.append(self._counted((int(kind), str(n), int(t), str(a), str(b)), self._seen(seen)))
        if self.policy.records_before is not None:
            hours = self.topo.main.rows(
                f"SELECT rrname_rev, k1 FROM {self.topo.database}.entry WHERE kind = {int(Kind.HOUR)} "
                "GROUP BY rrname_rev, k1 HAVING minMerge(tf) + 3600 <= %(before)s",
                {"before": self.policy.records_before})
            out += [(int(Kind.HOUR), str(s), 0, str(h), "") for s, h in hours]
        return out

    def _records(self) -> list[Key]:
        """Expired records and their sample links (a record linked to a sample goes at the samples' age)."""
        linked_before = self.policy.samples_before
        links = _sample_links(self.topo) if max(self.base, self.latest) > 0 else []
        linked = {k[1:4] for k in links}
        out: list[Key] = []
        for n, t, r, last, seen in _candidates(self.topo, (Kind.RR,), max(self.base, self.latest)):
            key = (int(Kind.RR), str(n), int(t), str(r), "")
            if last >= self.ages.record_cutoff(t, self._seen(seen), self.base):
                continue
            if linked_before is None or last < linked_before or key[1:4] not in linked:
                out.append(self._counted(key, self._seen(seen)))
        gone = {k[1:4] for k in out}
        return out + [k for k in links if k[1:4] in gone]

    def _seen(self, ids: list[int]) -> list[tuple[str, str]]:
        return [self.provs[p] for p in ids if p in self.provs]

    def _counted(self, key: Key, seen: list[tuple[str, str]]) -> Key:
        if Kind(key[0]) != Kind.NAME_SAMPLE:
            self.by_rule.update(self.ages.labels(key[2], seen))
        return key


def _candidates(topo: Topology, kinds: tuple[Kind, ...], below: int, grouped: bool = False) -> list[tuple[Any, ...]]:
    """Keys of ``kinds`` last seen (traffic, else zone) before ``below``, with their last time and the
    provenance ids that saw them: ``(rrname_rev, rrtype, rdata, last, provs)`` for records, else
    ``(kind, rrname_rev, rrtype, k1, k2, last, provs)``."""
    if below <= 0:
        return []
    key = "kind, rrname_rev, rrtype, k1, k2" if grouped else "rrname_rev, rrtype, k1"
    last = f"if(maxMerge(tl) != {NONE_MAX}, maxMerge(tl), maxMerge(ztl))" if grouped else LAST
    return topo.main.rows(
        f"SELECT {key}, {last}, groupUniqArray(prov) FROM {topo.database}.entry WHERE kind IN "
        f"({', '.join(str(int(k)) for k in kinds)}) GROUP BY {key} HAVING {last} < %(below)s",
        {"below": below},
    )


def _provenances(topo: Topology) -> dict[int, tuple[str, str]]:
    """Every provenance id's ``(sensor, evidence)``."""
    found = topo.main.rows(f"SELECT DISTINCT prov, rrname_rev, k1 FROM {topo.database}.entry "
                           f"WHERE kind = {int(Kind.PROV)}")
    return {int(p): (str(s), str(e)) for p, s, e in found}


def _sample_links(topo: Topology) -> list[Key]:
    """Every sample-link key ``(kind, rrname_rev, rrtype, rdata, sample)``."""
    links = topo.main.rows(f"SELECT DISTINCT rrname_rev, rrtype, k1, k2 FROM {topo.database}.entry "
                           f"WHERE kind = {int(Kind.SAMPLE)}")
    return [(int(Kind.SAMPLE), str(n), int(t), str(r), str(k2)) for n, t, r, k2 in links]


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
