"""The local aggregator: repeats of one observation key within a window become one observation.

The key is everything that identifies a sighting except its times, count and
TTL: ``(rrname, rrtype, rdata set, rcode, sensor, evidence, source,
bailiwick, sample)``. Folding keeps ``time_first = min``, ``time_last = max``
and ``count = sum`` exact (a drop-duplicates cache would lose all three).

TTLs differ between repeats (a resolver's cache counts down), and the store
keeps ``ttl_min``/``ttl_max``. So a key whose repeats carried different TTLs
drains as two observations: one with the largest TTL and ``count - 1``, one
with the smallest TTL and a count of 1; both inside ``[first, last]``, so
every aggregate the store computes (first, last, count, TTL range) is
exactly what it would have been without folding.

Memory is bounded by the caller: ``len(aggregator)`` is the number of keys,
and the pipeline drains when it reaches its limit or the window ends.
"""

from __future__ import annotations

from collections.abc import Iterable

from yapdns.core.model import Evidence, Observation, SampleRef

Key = tuple[str, str, tuple[str, ...], str | None, str | None, Evidence, str | None, str | None, SampleRef | None]

_NO_TTL = -1


def observation_key(obs: Observation) -> Key:
    return (
        obs.rrname,
        obs.rrtype,
        obs.rdata,
        obs.rcode,
        obs.sensor_id,
        obs.evidence,
        obs.source,
        obs.bailiwick,
        obs.sample,
    )


class ObservationAggregator:
    """Folds observations by key; ``drain()`` hands back the folded ones and starts a new window."""

    def __init__(self) -> None:
        # key -> [first, last, count, ttl_min, ttl_max] (ttl -1 = none seen)
        self._folds: dict[Key, list[int]] = {}
        self.observations_in = 0

    def __len__(self) -> int:
        return len(self._folds)

    def add(self, observations: Iterable[Observation]) -> None:
        folds = self._folds
        for obs in observations:
            self.observations_in += 1
            key = observation_key(obs)
            ttl = _NO_TTL if obs.ttl is None else obs.ttl
            fold = folds.get(key)
            if fold is None:
                folds[key] = [obs.time_first, obs.time_last, obs.count, ttl, ttl]
                continue
            fold[0] = min(fold[0], obs.time_first)
            fold[1] = max(fold[1], obs.time_last)
            fold[2] += obs.count
            if ttl != _NO_TTL:
                if fold[3] == _NO_TTL or ttl < fold[3]:
                    fold[3] = ttl
                fold[4] = max(fold[4], ttl)

    def drain(self) -> list[Observation]:
        """Every folded observation; the aggregator is empty afterwards."""
        folds, self._folds = self._folds, {}
        out: list[Observation] = []
        for key, (first, last, count, ttl_min, ttl_max) in folds.items():
            if ttl_min == ttl_max:
                out.append(_observation(key, first, last, count, None if ttl_max == _NO_TTL else ttl_max))
            else:
                out.append(_observation(key, first, last, count - 1, ttl_max))
                out.append(_observation(key, first, first, 1, ttl_min))
        return out


def _observation(key: Key, first: int, last: int, count: int, ttl: int | None) -> Observation:
    rrname, rrtype, rdata, rcode, sensor_id, evidence, source, bailiwick, sample = key
    return Observation(
        rrname=rrname,
        rrtype=rrtype,
        rdata=rdata,
        time_first=first,
        time_last=last,
        count=count,
        ttl=ttl,
        rcode=rcode,
        bailiwick=bailiwick,
        sensor_id=sensor_id,
        source=source,
        evidence=evidence,
        sample=sample,
    )
