"""``ClickHouseApplier``: how the ClickHouse store applies one group of writes, exactly once per batch id.

ClickHouse has no transaction over two tables, but ONE insert of ONE block into a MergeTree table is one
part, applied whole or not at all. A write is a few such inserts ("parts"): per shard, one into ``rdx_in``
and one into ``entry_in`` (each feeding one materialized view); every part carries, inside its own block, a
marker row per batch id (``RKind.BATCH`` / ``Kind.BATCH``), and the commit part (``entry`` on shard 0) is
inserted last. Steps, each safe to crash after:

1. commit markers: batch ids whose commit marker exists were applied, whole: they are replays;
2. claim: the other ids are claimed in ``claim`` (a ``Log`` table keeps insertion order). The first live
   claim of an id wins; a writer whose claim is not first waits for the winner's commit marker and answers
   "replayed". A claim older than ``claim_lease`` seconds without a marker is dead (its writer crashed) and
   the next claim wins: two server processes sent one batch at once apply it once;
3. other parts' markers (only for ids claimed before: an earlier attempt): parts an interrupted write
   already inserted are skipped (those batches are then written one by one);
4. fold (``aggregate.py``), build and shard the rows, insert every missing part, the commit part last;
5. number the write's records in ``seq_log`` (``sequence.py``), with its own markers: a replay of a batch
   whose commit marker exists but whose sequence marker does not (a crash after step 4) numbers it then.

The one window left: a writer stalled (not crashed) for longer than ``claim_lease`` between steps 2 and 4
while another writer takes the batch over would apply it twice (docs/storage.md).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from socket import AF_INET6, inet_aton, inet_pton
from typing import Any

from yapdns.core import rrtypes
from yapdns.core.names import reverse_name
from yapdns.core.normalize import COUNT_CEILING
from yapdns.core.rdata import target_name
from yapdns.storage.aggregate import BatchAggregate, FoldedBatch, ProvKey, Stats, _code, _prov_key, merge
from yapdns.storage.base import BatchRef, StoreUnavailable, WriteOutcome
from yapdns.storage.clickhouse.schema import (
    ENTRY_KEY,
    LO_BITS,
    NONE_MAX,
    NONE_MIN,
    RDX_KEY,
    STATE_COLUMNS,
    Kind,
    RKind,
)
from yapdns.storage.clickhouse.sequence import WHOLE_TYPES, RecordKey, Sequencer, folded_records, records_of
from yapdns.storage.clickhouse.topology import Topology
from yapdns.storage.group import BatchKey, WriteJob, hour_sensor, resolve_replays

GROUP_LIMIT = 400_000  # observations per group: one block per table stays well inside one part
NAMES_MAX = 500_000  # reversed names a writer remembers (about 100 MB)
POLL = 0.02
_LO_MASK = (1 << LO_BITS) - 1
_INT64 = (-(2**63), 2**63 - 1)


def prov_id(key: ProvKey) -> int:
    """A provenance's id: 63 bits of a hash of (sensor, evidence, source), the same in every process."""
    digest = hashlib.blake2b("\x00".join(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**63 - 1)


class Columns:
    """The rows of one insert, kept as columns (what the native protocol sends)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.data: list[list[Any]] = [[] for _ in names]

    def add(self, key: tuple[Any, ...], states: tuple[int, ...]) -> None:
        """One row (markers, provenances, the rarer row kinds); its states are range-checked."""
        _check_range([list(states)])
        for column, value in zip(self.data, (*key, *states), strict=True):
            column.append(value)

    def extend(self, columns: Sequence[Sequence[Any]]) -> None:
        """Many rows, given as columns (their states checked by ``state_columns``)."""
        for column, values in zip(self.data, columns, strict=True):
            column.extend(values)

    def __len__(self) -> int:
        return len(self.data[0])

    def take(self, indexes: list[int]) -> Columns:
        """The rows at ``indexes``."""
        out = Columns(self.names)
        out.data = [[column[i] for i in indexes] for column in self.data]
        return out


def _check_range(columns: Iterable[Sequence[int]]) -> None:
    """Refuse a value no Int64 column can hold before anything is sent (the write then changes nothing)."""
    lo, hi = _INT64
    for column in columns:
        if column and not (lo <= min(column) and max(column) <= hi):
            raise OverflowError("ClickHouse store: a time, TTL or count out of the 64-bit range")


def state_columns(stats: list[list[Any]], ins: int) -> list[list[Any]]:
    """The nine state input columns of fold stats ``[tf, tl, n, tmin, tmax(, ztf, ztl, zone_only)]``, built a
    column at a time and range-checked (counts leave the fold saturated)."""
    n = len(stats)
    if not n:
        return [[] for _ in STATE_COLUMNS]
    if max(map(len, stats)) > 5:  # zone-file times on some row: the rare path
        rows = [_states(st, ins) for st in stats]
        columns = [list(c) for c in zip(*rows, strict=True)]
        _check_range(columns)
        return columns
    tf, tl, counts, tmin, tmax = (list(c) for c in zip(*stats, strict=True))
    if min(counts) >= 0 and max(counts) <= _LO_MASK:  # nearly always: no count needs its high half
        hi, lo = [0] * n, counts
    else:  # saturated as they leave (plain sightings come here unfolded)
        counts = [min(c, COUNT_CEILING) for c in counts]
        hi, lo = [c >> LO_BITS for c in counts], [c & _LO_MASK for c in counts]
    if None in tmin:
        tmin = [NONE_MIN if v is None else v for v in tmin]
    if None in tmax:
        tmax = [NONE_MAX if v is None else v for v in tmax]
    _check_range((tf, tl, tmin, tmax))
    return [tf, tl, hi, lo, tmin, tmax, [NONE_MIN] * n, [NONE_MAX] * n, [ins] * n]


def _states(st: list[Any], ins: int) -> tuple[int, ...]:
    """The aggregate inputs of fold stats ``[tf, tl, n, tmin, tmax(, ztf, ztl, zone_only)]`` (counts leave the
    fold saturated)."""
    n = st[2]
    tmin = NONE_MIN if st[3] is None else st[3]
    tmax = NONE_MAX if st[4] is None else st[4]
    if len(st) == 5:  # traffic only: nearly every row
        return (st[0], st[1], n >> LO_BITS, n & _LO_MASK, tmin, tmax, NONE_MIN, NONE_MAX, ins)
    tf, tl = (NONE_MIN, NONE_MAX) if st[7] else (st[0], st[1])
    ztf = NONE_MIN if st[5] is None else st[5]
    ztl = NONE_MAX if st[6] is None else st[6]
    return (tf, tl, n >> LO_BITS, n & _LO_MASK, tmin, tmax, ztf, ztl, ins)


def _plain(tf: int, tl: int, n: int, ins: int) -> tuple[int, ...]:
    n = min(n, COUNT_CEILING)
    return (tf, tl, n >> LO_BITS, n & _LO_MASK, NONE_MIN, NONE_MAX, NONE_MIN, NONE_MAX, ins)


_RR, _RRSET, _PROV = int(Kind.RR), int(Kind.RRSET), int(Kind.PROV)
_IP, _TARGET, _RDATA = int(RKind.IP), int(RKind.TARGET), int(RKind.RDATA)
_V4 = "0" * 20 + "ffff"  # IPv4 mapped into ::ffff:0:0/96, as hex


class Names:
    """Reversed name keys, kept across the writes of one process (up to ``NAMES_MAX``, then it starts over):
    passive DNS repeats its names."""

    def __init__(self) -> None:
        self._rev: dict[str, str] = {}

    def rev(self, name: str) -> str:
        key = self._rev.get(name)
        if key is None:
            key = self._rev[name] = reverse_name(name)
        return key

    def revs(self, names: Iterable[str]) -> list[str]:
        """The keys of ``names``, in order."""
        names = list(names)
        cache = self._rev
        missing = set(names).difference(cache)
        if len(cache) + len(missing) > NAMES_MAX:
            cache.clear()
            missing = set(names)
        cache.update(zip(missing, map(reverse_name, missing), strict=True))
        return list(map(cache.__getitem__, names))


class RrPart:
    """Per-RR rows as columns: one provenance's plain sightings (``plain_parts``), or a fold's ``rr`` rows."""

    def __init__(self, names: list[str], codes: list[int], rdatas: list[str], provs: list[int], stats: list[Stats]):
        self.names, self.codes, self.rdatas, self.provs, self.stats = names, codes, rdatas, provs, stats

    @classmethod
    def of(cls, rr: dict[tuple[str, int, str, int], Stats]) -> RrPart:
        if not rr:
            return cls([], [], [], [], [])
        names, codes, rdatas, provs = (list(c) for c in zip(*rr, strict=True))
        return cls(names, codes, rdatas, provs, list(rr.values()))


def plain_parts(agg: BatchAggregate, provs: dict[ProvKey, int]) -> list[RrPart] | None:
    """The plain sightings of ``agg`` (no rcode, bailiwick, sample or zone times: nearly all traffic) as
    per-RR columns, one part per provenance, without folding them again: a provenance's keys are its RR
    rows already. None when one of them is not a single-RR answer (``BatchAggregate.fold`` then takes all)."""
    parts = []
    for (sensor, evidence, source), table in agg.plain.items():
        if not table:
            continue
        names, types, rdatas = (list(c) for c in zip(*table, strict=True))
        if max(map(len, rdatas)) != 1 or min(map(len, rdatas)) != 1:
            return None
        codes = {t: _code(t) for t in set(types)}
        prov = provs[_prov_key(sensor, evidence, source)]
        parts.append(RrPart(names, list(map(codes.__getitem__, types)), [r[0] for r in rdatas], [prov] * len(names),
                            list(table.values())))  # fmt: skip
    return parts


def plain_rrsets(parts: list[RrPart]) -> RrPart:
    """The RRsets of single-RR plain sightings: the RR rows summed over provenances (``prov`` 0)."""
    if len(parts) == 1:
        one = parts[0]
        return RrPart(one.names, one.codes, one.rdatas, [0] * len(one.names), one.stats)
    merged: dict[tuple[str, int, str], Stats] = {}
    for part in parts:
        for key, st in zip(zip(part.names, part.codes, part.rdatas, strict=True), part.stats, strict=True):
            cur = merged.get(key)
            if cur is None:
                merged[key] = st  # shared with the RR row: never changed in place
            else:
                merged[key] = list(cur)
                merge(merged, key, st)
    if not merged:
        return RrPart([], [], [], [], [])
    names, codes, rdatas = (list(c) for c in zip(*merged, strict=True))
    return RrPart(names, codes, rdatas, [0] * len(names), list(merged.values()))


class RrColumns:
    """A write's per-RR rows as columns, built once for ``entry``, ``rdx`` and the sequence (a record may have
    several rows: the server's aggregation folds them)."""

    def __init__(self, parts: Sequence[RrPart], names: Names, ins: int) -> None:
        self.codes: list[int] = []
        self.rdatas: list[str] = []
        self.provs: list[int] = []
        stats: list[Stats] = []
        owners: list[str] = []
        for part in parts:
            owners += part.names
            self.codes += part.codes
            self.rdatas += part.rdatas
            self.provs += part.provs
            stats += part.stats
        self.n = len(owners)
        self.revs: list[str] = names.revs(owners)
        self.states = state_columns(stats, ins)


def entry_rows(
    folded: FoldedBatch, provs: dict[ProvKey, int], ins: int, names: Names, rr: RrColumns, plain_sets: RrPart | None
) -> Columns:
    """Every ``entry`` row of a folded group and of its plain RRsets (``plain_rrsets``); the markers and the
    hour are added by the caller."""
    rev = names.rev
    out = Columns(ENTRY_KEY + STATE_COLUMNS)
    if rr.n:  # (name, type, rdata, prov)
        out.extend([[_RR] * rr.n, rr.revs, rr.codes, rr.rdatas, [""] * rr.n, rr.provs, *rr.states])
    if folded.rrset:  # (name, type, bailiwick, rdata); prov 0, and only records need "ins"
        set_names, codes, bailiwicks, rdatas = (list(c) for c in zip(*folded.rrset, strict=True))
        n = len(codes)
        out.extend([[_RRSET] * n, names.revs(set_names), codes, bailiwicks, rdatas, [0] * n,
                    *state_columns(list(folded.rrset.values()), 0)])  # fmt: skip
    if plain_sets is not None and plain_sets.names:
        n = len(plain_sets.names)
        out.extend([[_RRSET] * n, names.revs(plain_sets.names), plain_sets.codes, [""] * n, plain_sets.rdatas,
                    [0] * n, *state_columns(plain_sets.stats, 0)])  # fmt: skip
    for (name, code, rcode, prov), st in folded.negative.items():
        out.add((Kind.NEGATIVE, rev(name), code, rcode, "", prov), _plain(st[0], st[1], st[2], ins))
    for (name, code, prov), st in folded.query.items():
        out.add((Kind.QUERY, rev(name), code, "", "", prov), _plain(st[0], st[1], st[2], ins))
    for (name, code, rdata, sha, task), st in folded.sample.items():
        out.add((Kind.SAMPLE, rev(name), code, rdata, f"{sha}\t{task}", 0), _plain(st[0], st[1], st[2], ins))
    for (name, code, rcode, sha, task), st in folded.name_sample.items():
        out.add((Kind.NAME_SAMPLE, rev(name), code, rcode, f"{sha}\t{task}", 0), _plain(st[0], st[1], st[2], ins))
    for (sensor, evidence, source), pid in provs.items():
        out.add((_PROV, sensor, 0, evidence, source, pid), _plain(NONE_MIN, NONE_MAX, 0, ins))
    return out


def rdx_rows(rr: RrColumns, names: Names) -> tuple[Columns, list[RecordKey]]:
    """The per-RR rows keyed by rdata (an address, a reversed target name, and the rdata text of non-IP
    types), and the write's sequence keys (``sequence.folded_records``)."""
    out = Columns(RDX_KEY + STATE_COLUMNS)
    if not rr.n:
        return out, []
    rkinds: list[int] = []
    rkeys: list[str] = []
    picks: list[int] = []  # the rr row of each rdx row
    seq_rdata: list[str] = []  # an address or CNAME record's sequence key keeps its rdata (``sequence.py``)
    for i, (code, rdata) in enumerate(zip(rr.codes, rr.rdatas, strict=True)):
        if code == rrtypes.A:
            rkinds.append(_IP)
            rkeys.append(_V4 + inet_aton(rdata).hex())
            picks.append(i)
            seq_rdata.append(rdata)
        elif code == rrtypes.AAAA:
            rkinds.append(_IP)
            rkeys.append(inet_pton(AF_INET6, rdata).hex())
            picks.append(i)
            seq_rdata.append(rdata)
        else:
            target = target_name(code, rdata)
            if target:
                rkinds.append(_TARGET)
                rkeys.append(names.rev(target))
                picks.append(i)
            rkinds.append(_RDATA)
            rkeys.append(rdata)
            picks.append(i)
            seq_rdata.append(rdata if code in WHOLE_TYPES else "")
    seq = list(dict.fromkeys(zip(rr.revs, rr.codes, seq_rdata, strict=True)))
    columns: list[list[Any]] = [rr.revs, rr.codes, rr.rdatas, rr.provs, *rr.states[:-1]]
    if len(picks) != rr.n:  # some RRs have two rdx rows
        columns = [[column[i] for i in picks] for column in columns]
    out.extend([rkinds, rkeys, *columns, [0] * len(picks)])  # "ins" is read from entry only: a constant packs well
    return out, seq


Part = tuple[int, str]  # (shard, "entry" | "rdx"): one insert of a write
Row = tuple[tuple[Any, ...], tuple[int, ...]]  # an entry row: its key and its nine state inputs


class ClickHouseApplier:
    """Applies groups of write jobs for one store; ``token`` names this writer in claims."""

    def __init__(self, topology: Topology, claim_lease: float) -> None:
        self._topo = topology
        self._lease = claim_lease
        self.token = uuid.uuid4().hex
        self._seq = Sequencer(topology)
        self._names = Names()  # one writer thread uses it (and ``load``, never at the same time)

    # -- GroupApplier -----------------------------------------------------------

    def connect(self) -> Topology:
        return self._topo

    def disconnect(self, conn: Topology) -> None:
        """The connections belong to the store."""

    def healthy(self, conn: Topology) -> bool:
        return True

    def after_group(self, conn: Topology) -> None:
        """Nothing to tidy between groups."""

    def apply(self, conn: Topology, jobs: list[WriteJob]) -> list[WriteOutcome]:
        outcomes, fresh = resolve_replays(jobs, self._applied)
        if len(fresh) < len(jobs):
            self._number_replays(jobs, outcomes)
        if not fresh:
            return outcomes
        lost, retried = self._claim([job.batch for job in fresh if job.batch is not None])
        if lost:
            outcomes = [self._await(job, o, lost) for job, o in zip(jobs, outcomes, strict=True)]
            fresh = [job for job in fresh if job.batch is None or _key(job.batch) not in lost]
        done = self._parts_done([job.batch for job in fresh if job.batch is not None and _key(job.batch) in retried])
        if any(done.values()):  # a crashed write left some parts of these batches: finish each alone
            for job in fresh:
                self._write([job], done.get(_key(job.batch), set()) if job.batch else set())
        elif fresh:
            self._write(fresh, set())
        return outcomes

    # -- the steps ----------------------------------------------------------------

    @property
    def _commit(self) -> Part:
        return (0, "entry")

    def _parts(self) -> list[Part]:
        """Every insert of a write, the commit part (whose marker says "applied") last."""
        n = len(self._topo.shards)
        return [(s, "rdx") for s in range(n)] + [(s, "entry") for s in range(n) if (s, "entry") != self._commit] + [
            self._commit
        ]

    def _markers(self, part: Part, refs: Sequence[BatchRef]) -> list[tuple[Any, ...]]:
        """``(sensor, batch id, accepted, rejected)`` of the markers of ``refs`` in one part."""
        shard, table = part
        conn = self._topo.shards[shard]
        local = self._topo.local(table)
        if table == "entry":
            sql = (
                f"SELECT rrname_rev, k1, minMerge(tmin), maxMerge(tmax) FROM {conn.database}.{local} "
                "WHERE kind = %(kind)s AND (rrname_rev, k1) IN %(keys)s GROUP BY rrname_rev, k1"
            )
            kind = int(Kind.BATCH)
        else:
            sql = (
                f"SELECT rrname_rev, rkey, 0, 0 FROM {conn.database}.{local} "
                "WHERE rkind = %(kind)s AND (rrname_rev, rkey) IN %(keys)s GROUP BY rrname_rev, rkey"
            )
            kind = int(RKind.BATCH)
        return conn.rows(sql, {"kind": kind, "keys": tuple(_key(r) for r in refs)})

    def _applied(self, refs: list[BatchRef]) -> dict[BatchKey, BatchRef]:
        """Batch ids whose commit marker exists, with the counts of their first application."""
        found = self._markers(self._commit, refs)
        return {(s, b): BatchRef(s, b, int(a), int(r)) for s, b, a, r in found}

    def _parts_done(self, refs: list[BatchRef]) -> dict[BatchKey, set[Part]]:
        """The parts an earlier, interrupted write of these (uncommitted) batches did insert."""
        done: dict[BatchKey, set[Part]] = {}
        if not refs:
            return done
        for part in self._parts()[:-1]:
            for sensor, batch_id, *_ in self._markers(part, refs):
                done.setdefault((sensor, batch_id), set()).add(part)
        return done

    def _claim(self, refs: list[BatchRef]) -> tuple[set[BatchKey], set[BatchKey]]:
        """Claim ``refs``; return the ids another live writer claimed first, and the ids claimed before at all
        (only an earlier attempt can have left parts of a batch behind)."""
        if not refs:
            return set(), set()
        conn = self._topo.shards[0]
        now = int(time.time())
        keys = [_key(r) for r in refs]
        conn.insert(
            "claim",
            ("sensor", "batch_id", "token", "at"),
            [[k[0] for k in keys], [k[1] for k in keys], [self.token] * len(keys), [now] * len(keys)],
        )
        rows = conn.rows(
            f"SELECT sensor, batch_id, token, at FROM {conn.database}.claim "
            "WHERE (sensor, batch_id) IN %(keys)s SETTINGS max_threads = 1",
            {"keys": tuple(keys)},
        )
        winner: dict[BatchKey, str] = {}
        claims: dict[BatchKey, int] = {}
        for sensor, batch_id, token, at in rows:  # insertion order
            key = (sensor, batch_id)
            claims[key] = claims.get(key, 0) + 1
            if key not in winner and (token == self.token or now - int(at) < self._lease):
                winner[key] = token
        lost = {key for key in keys if winner.get(key, self.token) != self.token}
        return lost, {key for key, n in claims.items() if n > 1}

    def _await(self, job: WriteJob, outcome: WriteOutcome, lost: set[BatchKey]) -> WriteOutcome:
        """Wait for the winning writer's marker of a lost claim; then the job is a replay."""
        if job.batch is None or _key(job.batch) not in lost or outcome.replayed:
            return outcome
        deadline = time.monotonic() + self._lease + 1
        while time.monotonic() < deadline:
            done = self._applied([job.batch])
            if done:
                first = next(iter(done.values()))
                return WriteOutcome(True, first.accepted, first.rejected)
            time.sleep(POLL)
        raise StoreUnavailable("another writer holds this batch id and has not finished it; retry later")

    def _number_replays(self, jobs: list[WriteJob], outcomes: list[WriteOutcome]) -> None:
        """Number the records of replayed batches that were applied but never numbered (step 5 crashed)."""
        replays = {_key(j.batch): j for j, o in zip(jobs, outcomes, strict=True) if o.replayed and j.batch}
        for key in self._seq.missing([j.batch for j in replays.values() if j.batch is not None]):
            job = replays[key]
            agg = BatchAggregate()
            agg.add_all(job.observations)
            self._seq.append(records_of(agg, self._names.rev), [job.batch] if job.batch else [])

    def _write(self, jobs: list[WriteJob], skip: set[Part]) -> None:
        """Fold ``jobs`` and insert every part not in ``skip``, the commit part last."""
        agg = BatchAggregate()
        for job in jobs:
            agg.add_all(job.observations)
        provs = _ids(agg.prov_keys())
        plain = plain_parts(agg, provs)
        if plain is not None:  # fold the rest only: the rich and zone-file sightings
            rest = BatchAggregate()
            rest.rich, rest.zone, rest.observations = agg.rich, agg.zone, agg.observations
            agg = rest
        folded = agg.fold(provs)
        now = int(time.time())
        hour = ((Kind.HOUR, hour_sensor(jobs), 0, str(now - now % 3600), "", now),
                _plain(now - now % 3600, NONE_MAX, folded.observations, now))  # fmt: skip
        refs = [job.batch for job in jobs if job.batch is not None]
        self._insert(folded, provs, refs, skip, [hour], now, plain)

    def load(self, folded: FoldedBatch, provs: dict[ProvKey, int], ref: BatchRef, commit_rows: list[Row]) -> bool:
        """Apply rows folded elsewhere (``copy.py``) once per ``ref``, ``commit_rows`` (entry rows: batch markers,
        hourly counts) in the commit part; False when ``ref`` was applied before."""
        if self._applied([ref]):
            if self._seq.missing([ref]):  # applied, then a crash before its numbering
                self._seq.append(folded_records(folded.rr, self._names.rev), [ref])
            return False
        lost, retried = self._claim([ref])
        if lost:
            raise StoreUnavailable("another writer holds this batch id; retry later")
        skip = self._parts_done([ref]).get(_key(ref), set()) if retried else set()
        self._insert(folded, provs, [ref], skip, commit_rows, int(time.time()))
        return True

    def _insert(
        self, folded: FoldedBatch, provs: dict[ProvKey, int], refs: list[BatchRef], skip: set[Part],
        commit_rows: list[Row], now: int, plain: list[RrPart] | None = None,
    ) -> None:
        """Build the rows of ``folded`` and insert every part not in ``skip``, the commit part last; then number
        its records. The ``rdx`` parts are sent from threads while the ``entry`` rows are built (the server
        works on one while this process builds the other); every one has landed or failed before ``entry``."""
        names, shards = self._names, len(self._topo.shards)
        rr = RrColumns([*(plain or []), RrPart.of(folded.rr)], names, now)
        rdx, seq = rdx_rows(rr, names)
        # every entry value is checked before the first part is sent: RRsets and sample links hold the RRs'
        # values (checked in RrColumns), negatives and bare queries their own
        _check_range([[st[i] for st in (*folded.negative.values(), *folded.query.values()) for i in (0, 1)]])
        sending = [
            Background(partial(self._send, part, columns, refs, now))
            for part, columns in _split(rdx, "rdx", shards, lambda r: self._topo.rdx_shard(r[0], r[1])).items()
            if part not in skip
        ]
        try:
            rows = entry_rows(folded, provs, now, names, rr, plain_rrsets(plain) if plain else None)
            entry = _split(rows, "entry", shards, lambda k: self._topo.entry_shard(k[1]))
            for key, states in commit_rows:
                entry[self._commit].add(key, states)
        finally:
            Background.wait_all(sending)
        for part in self._parts():
            if part[1] == "entry" and part not in skip:
                self._send(part, entry[part], refs, now)
        self._seq.append(seq, refs)

    def _send(self, part: Part, columns: Columns, refs: list[BatchRef], now: int) -> None:
        """Insert one part with its batch markers."""
        for ref in refs:
            if part[1] == "entry":
                columns.add((Kind.BATCH, ref.sensor, 0, ref.batch_id, "", 0), _marker(ref, now))
            else:
                columns.add((RKind.BATCH, ref.batch_id, ref.sensor, 0, "", 0), _plain(NONE_MIN, NONE_MAX, 0, 0))
        if len(columns):
            self._topo.shards[part[0]].insert(f"{part[1]}_in", columns.names, columns.data)


class Background:
    """A call running in a thread of its own; ``wait_all`` joins calls and re-raises the first failure."""

    def __init__(self, call: Callable[[], None]) -> None:
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), name="ch-insert", daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], None]) -> None:
        try:
            call()
        except BaseException as exc:  # handed to the caller by wait_all
            self.error = exc

    @staticmethod
    def wait_all(calls: Sequence[Background]) -> None:
        for call in calls:
            call._thread.join()
        for call in calls:
            if call.error is not None:
                raise call.error


def _split(rows: Columns, table: str, shards: int, shard_of: Callable[[tuple[Any, ...]], int]) -> dict[Part, Columns]:
    """``rows`` by shard (every shard gets a part, maybe empty: it will carry the markers)."""
    if shards == 1:
        return {(0, table): rows}
    owner = [shard_of(key) for key in zip(rows.data[0], rows.data[1], strict=True)]
    return {(s, table): rows.take([i for i, o in enumerate(owner) if o == s]) for s in range(shards)}


def _marker(ref: BatchRef, now: int) -> tuple[int, ...]:
    return (now, NONE_MAX, 0, 1, ref.accepted, ref.rejected, NONE_MIN, NONE_MAX, now)


def _key(ref: BatchRef) -> BatchKey:
    return (ref.sensor, ref.batch_id)


def _ids(keys: Iterable[ProvKey]) -> dict[ProvKey, int]:
    return {key: prov_id(key) for key in keys}

