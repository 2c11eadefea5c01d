"""In-memory pre-aggregation of one write, shared by the SQL backends.

Folding a batch before it reaches the engine turns N observations of a key
into one upsert. ``BatchAggregate`` keys every kind of row the store keeps:

* ``rr``: ``(rrname, type, rdata, prov)``: one row per RR and provenance;
* ``rrset``: ``(rrname, type, bailiwick, rdata joined by newlines)``;
* ``negative``: ``(rrname, type, rcode, prov)``; ``query``: ``(rrname, type, prov)``;
* ``sample``: ``(rrname, type, rdata, sha256, task_id)``.

Each value is ``[time_first, time_last, count, ttl_min, ttl_max]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from yapdns.core import rrtypes
from yapdns.core.model import Observation

Stats = list[int | None]
ProvLookup = Callable[[str, str, str], int]


def _merge(table: dict, key: object, first: int, last: int, count: int, ttl: int | None) -> None:  # type: ignore[type-arg]
    cur = table.get(key)
    if cur is None:
        table[key] = [first, last, count, ttl, ttl]
        return
    cur[0] = min(cur[0], first)
    cur[1] = max(cur[1], last)
    cur[2] += count
    if ttl is not None:
        if cur[3] is None or ttl < cur[3]:
            cur[3] = ttl
        if cur[4] is None or ttl > cur[4]:
            cur[4] = ttl


class BatchAggregate:
    """The folded rows of one write, ready to stage."""

    def __init__(self, prov_id: ProvLookup) -> None:
        self._prov_id = prov_id
        self._prov_cache: dict[tuple[str | None, str, str | None], int] = {}
        self.rr: dict[tuple[str, int, str, int], Stats] = {}
        self.rrset: dict[tuple[str, int, str, str], Stats] = {}
        self.negative: dict[tuple[str, int, str, int], Stats] = {}
        self.query: dict[tuple[str, int, int], Stats] = {}
        self.sample: dict[tuple[str, int, str, str, str], Stats] = {}
        self.observations = 0
        self.provs: set[int] = set()

    def add_all(self, observations: Iterable[Observation]) -> None:
        for obs in observations:
            self.add(obs)

    def add(self, obs: Observation) -> None:
        """Fold one normalized observation in."""
        pkey = (obs.sensor_id, obs.evidence, obs.source)
        prov = self._prov_cache.get(pkey)
        if prov is None:
            prov = self._prov_id(obs.sensor_id or "", obs.evidence.value, obs.source or "")
            self._prov_cache[pkey] = prov
            self.provs.add(prov)
        code = rrtypes.rrtype_code(obs.rrtype)
        first, last, count, ttl = obs.time_first, obs.time_last, obs.count, obs.ttl
        self.observations += count
        name = obs.rrname
        if not obs.rdata:
            if obs.rcode:
                _merge(self.negative, (name, code, obs.rcode, prov), first, last, count, None)
            else:
                _merge(self.query, (name, code, prov), first, last, count, None)
            return
        rr = self.rr
        for rdata in obs.rdata:
            _merge(rr, (name, code, rdata, prov), first, last, count, ttl)
        _merge(self.rrset, (name, code, obs.bailiwick or "", "\n".join(obs.rdata)), first, last, count, ttl)
        if obs.sample is not None:
            sha, task = obs.sample.sha256, obs.sample.task_id or ""
            for rdata in obs.rdata:
                _merge(self.sample, (name, code, rdata, sha, task), first, last, count, None)

    @property
    def single_prov(self) -> bool:
        """Whether every RR row has one provenance (then no RR key repeats across rows)."""
        return len(self.provs) <= 1
