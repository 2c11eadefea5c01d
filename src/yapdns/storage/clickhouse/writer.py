"""``ClickHouseApplier``: how the ClickHouse store applies one group of writes, exactly once per batch id.

ClickHouse has no transaction over two tables, but ONE insert of ONE block into a MergeTree table is one
part, applied whole or not at all. So every group is written as one insert into ``entry_in`` and one into
``rdx_in`` (each feeding one materialized view), and each insert carries, inside its own block, a marker row
per batch id (``Kind.BATCH`` / ``RKind.BATCH``). Steps, each safe to crash after:

1. markers: batch ids whose ``entry`` marker exists were applied: they are replays; if their ``rdx``
   marker is missing (a crash between steps 4 and 5), their ``rdx`` rows are written now, once;
2. claim: the other ids are claimed in ``claim`` (a ``Log`` table keeps insertion order). The first live
   claim of an id wins; a writer whose claim is not first waits for the winner's marker and answers
   "replayed". A claim older than ``claim_lease`` seconds without a marker is dead (its writer crashed) and
   the next claim wins: two server processes sent one batch at once apply it once;
3. fold (``aggregate.py``) and build the rows;
4. insert ``entry_in`` (records, RRsets, negatives, queries, samples, provenances, the hour, the markers);
5. insert ``rdx_in`` (the per-RR rows by rdata, the markers).

The one window left: a writer stalled (not crashed) for longer than ``claim_lease`` between steps 2 and 4
while another writer takes the batch over would apply it twice (docs/storage.md).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable
from typing import Any

from yapdns.core.names import reverse_name
from yapdns.core.normalize import COUNT_CEILING
from yapdns.core.rrtypes import IP_TYPES
from yapdns.storage.aggregate import BatchAggregate, FoldedBatch, ProvKey, fold_batches, stage_rr_rows
from yapdns.storage.base import BatchRef, StoreUnavailable, WriteOutcome
from yapdns.storage.clickhouse.client import Connection
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
from yapdns.storage.group import BatchKey, WriteJob, hour_sensor, resolve_replays

GROUP_LIMIT = 400_000  # observations per group: one block per table stays well inside one part
POLL = 0.02
_LO_MASK = (1 << LO_BITS) - 1
_INT64 = (-(2**63), 2**63 - 1)


def prov_id(key: ProvKey) -> int:
    """A provenance's id: 63 bits of a hash of (sensor, evidence, source), the same in every process."""
    digest = hashlib.blake2b("\x00".join(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**63 - 1)


class Columns:
    """Rows of one insert, kept as columns (what the native protocol sends)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.data: list[list[Any]] = [[] for _ in names]

    def add(self, key: tuple[Any, ...], states: tuple[int, ...]) -> None:
        for column, value in zip(self.data, (*key, *states), strict=True):
            column.append(value)

    def __len__(self) -> int:
        return len(self.data[0])

    def check(self) -> None:
        """Refuse a value no Int64 column can hold before anything is sent (the write then changes nothing)."""
        lo, hi = _INT64
        for name, column in zip(self.names, self.data, strict=True):
            if name in STATE_COLUMNS and column and not (lo <= min(column) and max(column) <= hi):
                raise OverflowError(f"ClickHouse store: {name} out of the 64-bit range")


def _states(st: list[Any], ins: int) -> tuple[int, ...]:
    """The aggregate inputs of fold stats ``[tf, tl, n, tmin, tmax(, ztf, ztl, zone_only)]``."""
    zone_only = len(st) > 5 and st[7]
    tf, tl = (NONE_MIN, NONE_MAX) if zone_only else (st[0], st[1])
    ztf = st[5] if len(st) > 5 and st[5] is not None else NONE_MIN
    ztl = st[6] if len(st) > 5 and st[6] is not None else NONE_MAX
    n = min(st[2], COUNT_CEILING)
    tmin = NONE_MIN if st[3] is None else st[3]
    tmax = NONE_MAX if st[4] is None else st[4]
    return (tf, tl, n >> LO_BITS, n & _LO_MASK, tmin, tmax, ztf, ztl, ins)


def _plain(tf: int, tl: int, n: int, ins: int) -> tuple[int, ...]:
    n = min(n, COUNT_CEILING)
    return (tf, tl, n >> LO_BITS, n & _LO_MASK, NONE_MIN, NONE_MAX, NONE_MIN, NONE_MAX, ins)


def entry_rows(folded: FoldedBatch, provs: dict[ProvKey, int], ins: int) -> Columns:
    """Every ``entry`` row of a folded group (the markers and the hour are added by the caller)."""
    out = Columns(ENTRY_KEY + STATE_COLUMNS)
    for (name, code, rdata, prov), st in folded.rr.items():
        out.add((Kind.RR, _rev(name), code, rdata, "", prov), _states(st, ins))
    for (name, code, bailiwick, rdata), st in folded.rrset.items():
        out.add((Kind.RRSET, _rev(name), code, bailiwick, rdata, 0), _states(st, ins))
    for (name, code, rcode, prov), st in folded.negative.items():
        out.add((Kind.NEGATIVE, _rev(name), code, rcode, "", prov), _plain(st[0], st[1], st[2], ins))
    for (name, code, prov), st in folded.query.items():
        out.add((Kind.QUERY, _rev(name), code, "", "", prov), _plain(st[0], st[1], st[2], ins))
    for (name, code, rdata, sha, task), st in folded.sample.items():
        out.add((Kind.SAMPLE, _rev(name), code, rdata, f"{sha}\t{task}", 0), _plain(st[0], st[1], st[2], ins))
    for (name, code, rcode, sha, task), st in folded.name_sample.items():
        out.add((Kind.NAME_SAMPLE, _rev(name), code, rcode, f"{sha}\t{task}", 0), _plain(st[0], st[1], st[2], ins))
    for (sensor, evidence, source), pid in provs.items():
        out.add((Kind.PROV, sensor, 0, evidence, source, pid), _plain(NONE_MIN, NONE_MAX, 0, ins))
    return out


def rdx_rows(folded: FoldedBatch, ins: int) -> Columns:
    """The per-RR rows keyed by rdata: an address, a reversed target name, and the rdata text of non-IP types."""
    out = Columns(RDX_KEY + STATE_COLUMNS)
    for row in stage_rr_rows(folded.rr.items()):
        rev, _, code, rdata, ip, target_rev, prov = row[:7]
        states = _states(list(row[7:]), ins)
        if code in IP_TYPES:
            out.add((RKind.IP, ip.hex(), rev, code, rdata, prov), states)
            continue
        if target_rev:
            out.add((RKind.TARGET, target_rev, rev, code, rdata, prov), states)
        out.add((RKind.RDATA, rdata, rev, code, rdata, prov), states)
    return out


_rev = reverse_name


class ClickHouseApplier:
    """Applies groups of write jobs for one store; ``token`` names this writer in claims."""

    def __init__(self, conn: Connection, claim_lease: float) -> None:
        self._conn = conn
        self._lease = claim_lease
        self.token = uuid.uuid4().hex

    # -- GroupApplier -----------------------------------------------------------

    def connect(self) -> Connection:
        return self._conn

    def disconnect(self, conn: Connection) -> None:
        """The connection pool belongs to the store."""

    def healthy(self, conn: Connection) -> bool:
        return True

    def after_group(self, conn: Connection) -> None:
        """Nothing to tidy: markers stay (a replay window purge is a partition-free ALTER DELETE, not per group)."""

    def apply(self, conn: Connection, jobs: list[WriteJob]) -> list[WriteOutcome]:
        outcomes, fresh = resolve_replays(jobs, self._applied)
        self._heal(jobs, outcomes)
        if not fresh:
            return outcomes
        lost = self._claim([job.batch for job in fresh if job.batch is not None])
        if lost:
            outcomes = [self._await(job, o, lost) for job, o in zip(jobs, outcomes, strict=True)]
            fresh = [job for job in fresh if job.batch is None or _key(job.batch) not in lost]
        if fresh:
            self._write(fresh)
        return outcomes

    # -- the steps ----------------------------------------------------------------

    def _applied(self, refs: list[BatchRef]) -> dict[BatchKey, BatchRef]:
        """Batch ids with an ``entry`` marker, with the counts of their first application."""
        found = self._conn.rows(
            f"SELECT rrname_rev, k1, minMerge(tmin), maxMerge(tmax) FROM {self._conn.database}.entry "
            "WHERE kind = %(kind)s AND (rrname_rev, k1) IN %(keys)s GROUP BY rrname_rev, k1",
            {"kind": int(Kind.BATCH), "keys": tuple((r.sensor, r.batch_id) for r in refs)},
        )
        return {(s, b): BatchRef(s, b, int(a), int(r)) for s, b, a, r in found}

    def _heal(self, jobs: list[WriteJob], outcomes: list[WriteOutcome]) -> None:
        """Write the ``rdx`` rows of replayed batches whose ``rdx`` marker is missing (a crash between inserts)."""
        replayed = {_key(j.batch): j for j, o in zip(jobs, outcomes, strict=True) if o.replayed and j.batch}
        if not replayed:
            return
        have = {
            (s, b)
            for s, b in self._conn.rows(
                f"SELECT DISTINCT rrname_rev, rkey FROM {self._conn.database}.rdx "
                "WHERE rkind = %(kind)s AND (rrname_rev, rkey) IN %(keys)s",
                {"kind": int(RKind.BATCH), "keys": tuple(replayed)},
            )
        }
        missing = [job for key, job in replayed.items() if key not in have]
        if missing:
            folded = fold_batches((j.observations for j in missing), _ids)
            self._insert_rdx(rdx_rows(folded, int(time.time())), missing)

    def _claim(self, refs: list[BatchRef]) -> set[BatchKey]:
        """Claim ``refs``; return the ids another live writer claimed first."""
        if not refs:
            return set()
        now = int(time.time())
        keys = [_key(r) for r in refs]
        self._conn.insert(
            "claim",
            ("sensor", "batch_id", "token", "at"),
            [[k[0] for k in keys], [k[1] for k in keys], [self.token] * len(keys), [now] * len(keys)],
        )
        rows = self._conn.rows(
            f"SELECT sensor, batch_id, token, at FROM {self._conn.database}.claim "
            "WHERE (sensor, batch_id) IN %(keys)s SETTINGS max_threads = 1",
            {"keys": tuple(keys)},
        )
        winner: dict[BatchKey, str] = {}
        for sensor, batch_id, token, at in rows:  # insertion order
            key = (sensor, batch_id)
            if key not in winner and (token == self.token or now - int(at) < self._lease):
                winner[key] = token
        return {key for key in keys if winner.get(key, self.token) != self.token}

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

    def _write(self, jobs: list[WriteJob]) -> None:
        agg = BatchAggregate()
        for job in jobs:
            agg.add_all(job.observations)
        provs = _ids(agg.prov_keys())
        folded = agg.fold(provs)
        now = int(time.time())
        entry = entry_rows(folded, provs, now)
        for job in jobs:
            if job.batch is not None:
                b = job.batch
                entry.add((Kind.BATCH, b.sensor, 0, b.batch_id, "", 0), _marker(b, now))
        hour = _plain(now - now % 3600, NONE_MAX, folded.observations, now)
        entry.add((Kind.HOUR, hour_sensor(jobs), 0, "", "", now), hour)
        rdx = rdx_rows(folded, now)
        entry.check()
        rdx.check()
        self._conn.insert("entry_in", entry.names, entry.data)
        self._insert_rdx(rdx, jobs)

    def _insert_rdx(self, rdx: Columns, jobs: list[WriteJob]) -> None:
        for job in jobs:
            if job.batch is not None:
                marker = (RKind.BATCH, job.batch.batch_id, job.batch.sensor, 0, "", 0)
                rdx.add(marker, _plain(NONE_MIN, NONE_MAX, 0, 0))
        if len(rdx):
            self._conn.insert("rdx_in", rdx.names, rdx.data)


def _marker(ref: BatchRef, now: int) -> tuple[int, ...]:
    return (now, NONE_MAX, 0, 1, ref.accepted, ref.rejected, NONE_MIN, NONE_MAX, now)


def _key(ref: BatchRef) -> BatchKey:
    return (ref.sensor, ref.batch_id)


def _ids(keys: Iterable[ProvKey]) -> dict[ProvKey, int]:
    return {key: prov_id(key) for key in keys}

