"""``Sequencer``: numbers the per-RR records of each applied write, for reads in storage order (``order.py``).

After a write's commit part, the writer appends one ``seq_log`` row per A, AAAA and CNAME record of the write
and one per ``(name, type)`` of its other records (``schema.py``, block 0003: what the readers ask of them), numbered
``(write number << SEQ_SHIFT) + index``. The write number is the wall clock in milliseconds, or the previous
number plus one when the clock has not moved on (or went back), seeded from the largest stored ``seq`` when
the process first writes: one writer's numbers only grow, in the order its writes were applied. Each
``seq_log`` insert is one block carrying a marker row per batch id (``rrtype`` ``SEQ_MARKER``), so a crash
between the commit part and this insert is repaired by the batch's replay: the commit marker says
"replayed", the missing sequence marker says "number it now" (``missing``).

A key this process numbered before is not logged again (it has a smaller number already): the writer keeps
the hashes of the keys it numbered (up to ``SEEN_MAX``, then it starts over), and forgets them all when
``prune_epoch`` grows (a prune deleted sequence rows: a pruned key seen again must be numbered again). A key
written again by another process gets another row; readers keep only the row equal to the key's smallest
``seq`` (``seq_first``), so a repeat, a replay or a repair never announces a record twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from yapdns.core.rrtypes import AAAA, CNAME, A
from yapdns.storage.aggregate import BatchAggregate
from yapdns.storage.base import BatchRef
from yapdns.storage.clickhouse.client import Connection
from yapdns.storage.clickhouse.schema import SEQ_MARKER, SEQ_SHIFT
from yapdns.storage.clickhouse.topology import Topology
from yapdns.storage.group import BatchKey

SEQ_COLUMNS = ("seq", "rrname_rev", "rrtype", "rdata")
SEEN_MAX = 1_000_000  # key hashes a writer remembers (about 60 MB)
RecordKey = tuple[str, int, str]  # (rrname_rev, rrtype, rdata: "" unless one of WHOLE_TYPES)
WHOLE_TYPES = frozenset((A, AAAA, CNAME))  # numbered per record: readers ask for a name's new addresses and targets


class Sequencer:
    """Numbers and appends the records of applied writes on the first shard of a topology."""

    def __init__(self, topology: Topology) -> None:
        self._topo = topology
        self._last: int | None = None  # the last write number this process used
        self._seen: set[int] = set()  # hashes of the keys this process numbered
        self._epoch = -1  # prune_epoch's row count when _seen was last valid

    @property
    def _conn(self) -> Connection:
        return self._topo.shards[0]

    def _base(self, n: int) -> int:
        if self._last is None:
            ((top,),) = self._conn.rows(f"SELECT max(seq) FROM {self._conn.database}.seq_log")
            self._last = int(top) >> SEQ_SHIFT
        number = max(int(time.time() * 1000), self._last + 1)
        self._last = number + (n >> SEQ_SHIFT)  # a write of 2**SEQ_SHIFT records or more takes several numbers
        return number << SEQ_SHIFT

    def append(self, records: Iterable[RecordKey], refs: Sequence[BatchRef]) -> None:
        """Number ``records`` (each once, in key order: a write's records have no order of their own, and
        neighbouring names compress) after every stored record, and append them with the markers of ``refs``
        in one insert."""
        ((epoch,),) = self._conn.rows(f"SELECT count() FROM {self._conn.database}.prune_epoch")
        if int(epoch) != self._epoch or len(self._seen) > SEEN_MAX:
            self._seen.clear()
            self._epoch = int(epoch)
        seen = self._seen
        keys = sorted(k for k in dict.fromkeys(records) if hash(k) not in seen)  # key order packs seq_log 2x
        if not keys and not refs:
            return
        base = self._base(len(keys) + 1)
        columns: list[list[Any]] = [
            [base + i for i in range(len(keys))],
            [k[0] for k in keys],
            [k[1] for k in keys],
            [k[2] for k in keys],
        ]
        for ref in refs:
            for column, value in zip(columns, (base + len(keys), ref.sensor, SEQ_MARKER, ref.batch_id), strict=True):
                column.append(value)
        self._conn.insert("seq_log", SEQ_COLUMNS, columns)
        seen.update(map(hash, keys))

    def missing(self, refs: Sequence[BatchRef]) -> set[BatchKey]:
        """The batch ids among ``refs`` whose records were never numbered (applied, then a crash)."""
        if not refs:
            return set()
        keys = tuple(dict.fromkeys((r.sensor, r.batch_id) for r in refs))
        found = self._conn.rows(
            f"SELECT rrname_rev, rdata FROM {self._conn.database}.seq_first WHERE rrtype = {SEQ_MARKER} "
            "AND (rrname_rev, rdata) IN %(keys)s GROUP BY rrname_rev, rdata",
            {"keys": keys},
        )
        return set(keys) - {(str(s), str(b)) for s, b in found}


def folded_records(rr: Iterable[tuple[str, int, str, int]], rev: Any) -> list[RecordKey]:
    """The distinct sequence keys of a fold's per-RR keys ``(name, type, rdata, prov)``: an address or CNAME record
    whole, any other record as its ``(name, type)`` only (its name's first is all a reader asks of it)."""
    keys = dict.fromkeys((name, code, rdata if code in WHOLE_TYPES else "") for name, code, rdata, _ in rr)
    return [(rev(name), code, rdata) for name, code, rdata in keys]


def records_of(batch: BatchAggregate, rev: Any) -> list[RecordKey]:
    """The distinct records of an aggregated batch (a replay being numbered)."""
    folded = batch.fold(dict.fromkeys(batch.prov_keys(), 0))
    return folded_records(folded.rr, rev)
