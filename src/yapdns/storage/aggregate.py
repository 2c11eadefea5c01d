"""In-memory pre-aggregation of one write, shared by the SQL backends.

Folding a batch before it reaches the engine turns N observations of a key
into one upsert. It runs in two passes:

1. ``BatchAggregate.add_all`` folds observations by their whole identity
   (RRset, rcode, bailiwick, provenance, sample): one tuple and one dict
   probe per observation, nothing else on the per-observation path.
2. ``BatchAggregate.fold`` expands the (far fewer) folded sightings into the
   row kinds the store keeps, in a ``FoldedBatch``:

   * ``rr``: ``(rrname, type, rdata, prov)``: one row per RR and provenance;
   * ``rrset``: ``(rrname, type, bailiwick, rdata joined by newlines)``;
   * ``negative``: ``(rrname, type, rcode, prov)``; ``query``: ``(rrname, type, prov)``;
   * ``sample``: ``(rrname, type, rdata, sha256, task_id)``.

Each value is ``[time_first, time_last, count, ttl_min, ttl_max]``.
``stage_rr_rows`` adds the derived keys (reversed name, 16-byte IP, reversed
target) that both schemas store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from yapdns.core import rrtypes
from yapdns.core.model import Observation
from yapdns.core.names import reverse_name
from yapdns.core.rdata import ip_key, target_name

Stats = list[Any]  # [time_first, time_last, count, ttl_min, ttl_max]
ProvKey = tuple[str, str, str]  # (sensor, evidence, source); "" for unset
ProvResolver = Callable[[set[ProvKey]], dict[ProvKey, int]]


def merge(table: dict[Any, Stats], key: Any, st: Stats) -> None:
    """Fold the stats ``st`` into ``table[key]`` (min/max/sum, ttl min/max ignoring None)."""
    cur = table.get(key)
    if cur is None:
        table[key] = list(st)
        return
    if st[0] < cur[0]:  # noqa: PLR1730 (faster than min/max here)
        cur[0] = st[0]
    if st[1] > cur[1]:  # noqa: PLR1730 (faster than min/max here)
        cur[1] = st[1]
    cur[2] += st[2]
    if st[3] is not None and (cur[3] is None or st[3] < cur[3]):
        cur[3] = st[3]
    if st[4] is not None and (cur[4] is None or st[4] > cur[4]):
        cur[4] = st[4]


class FoldedBatch:
    """The rows of one write, keyed as the store keys them."""

    def __init__(self, observations: int) -> None:
        self.observations = observations
        self.rr: dict[tuple[str, int, str, int], Stats] = {}
        self.rrset: dict[tuple[str, int, str, str], Stats] = {}
        self.negative: dict[tuple[str, int, str, int], Stats] = {}
        self.query: dict[tuple[str, int, int], Stats] = {}
        self.sample: dict[tuple[str, int, str, str, str], Stats] = {}
        self.provs: set[int] = set()

    @property
    def single_prov(self) -> bool:
        """Whether every RR row has one provenance (then no RR key repeats across rows)."""
        return len(self.provs) <= 1


class BatchAggregate:
    """Folds observations; ``fold`` turns them into a ``FoldedBatch``."""

    def __init__(self) -> None:
        self.sightings: dict[tuple[Any, ...], Stats] = {}
        self.observations = 0

    def add_all(self, observations: Iterable[Observation]) -> None:
        """Fold normalized observations in (the hot loop: keep it flat)."""
        sightings = self.sightings
        total = 0
        for o in observations:
            key = (o.rrname, o.rrtype, o.rdata, o.rcode, o.bailiwick, o.sensor_id, o.evidence, o.source, o.sample)
            count = o.count
            total += count
            cur = sightings.get(key)
            if cur is None:
                sightings[key] = [o.time_first, o.time_last, count, o.ttl, o.ttl]
                continue
            if o.time_first < cur[0]:  # noqa: PLR1730 (faster than min/max here)
                cur[0] = o.time_first
            if o.time_last > cur[1]:  # noqa: PLR1730 (faster than min/max here)
                cur[1] = o.time_last
            cur[2] += count
            ttl = o.ttl
            if ttl is not None:
                if cur[3] is None or ttl < cur[3]:
                    cur[3] = ttl
                if cur[4] is None or ttl > cur[4]:
                    cur[4] = ttl
        self.observations += total

    def prov_keys(self) -> set[ProvKey]:
        """Every provenance the folded sightings carry."""
        return {(k[5] or "", str(k[6]), k[7] or "") for k in self.sightings}

    def fold(self, prov_ids: dict[ProvKey, int]) -> FoldedBatch:
        """Expand the sightings into store rows, with provenance ids from ``prov_ids``."""
        out = FoldedBatch(self.observations)
        code_of = rrtypes.rrtype_code
        for (name, rrtype, rdata, rcode, bailiwick, sensor, evidence, source, sample), st in self.sightings.items():
            prov = prov_ids[(sensor or "", str(evidence), source or "")]
            out.provs.add(prov)
            code = code_of(rrtype)
            if not rdata:
                if rcode:
                    merge(out.negative, (name, code, rcode, prov), st)
                else:
                    merge(out.query, (name, code, prov), st)
                continue
            for one in rdata:
                merge(out.rr, (name, code, one, prov), st)
            merge(out.rrset, (name, code, bailiwick or "", "\n".join(rdata)), st)
            if sample is not None:
                for one in rdata:
                    merge(out.sample, (name, code, one, sample.sha256, sample.task_id or ""), st)
        return out


def stage_rr_rows(folded: FoldedBatch) -> list[tuple[Any, ...]]:
    """``(rrname_rev, rrname, rrtype, rdata, ip, target_rev, prov, tf, tl, n, tmin, tmax)`` per RR row."""
    out = []
    rev = reverse_name
    for (name, code, rdata, prov), st in folded.rr.items():
        target = target_name(code, rdata)
        out.append(
            (rev(name), name, code, rdata, ip_key(code, rdata), rev(target) if target else None, prov, *st)
        )
    return out


def stage_rrset_rows(folded: FoldedBatch) -> list[tuple[Any, ...]]:
    """``(rrname_rev, rrname, rrtype, bailiwick, rdata, tf, tl, n, tmin, tmax)`` per RRset row."""
    return [(reverse_name(k[0]), *k, *st) for k, st in folded.rrset.items()]


def stage_grouped_rows(rows: dict[Any, Stats]) -> list[tuple[Any, ...]]:
    """``(rrname_rev, rrname, rrtype, [rcode,] prov, tf, tl, n)`` per negative or bare-query row."""
    return [(reverse_name(k[0]), *k, st[0], st[1], st[2]) for k, st in rows.items()]


def stage_sample_rows(folded: FoldedBatch) -> list[tuple[Any, ...]]:
    """``(rrname_rev, rrtype, rdata, sha256, task_id, tf, tl, n)`` per sample link."""
    return [
        (reverse_name(name), code, rdata, sha, task, st[0], st[1], st[2])
        for (name, code, rdata, sha, task), st in folded.sample.items()
    ]
