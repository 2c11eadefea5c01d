"""The local aggregator: repeats of one observation key within a window become one observation.

The key is everything that identifies a sighting except its times, count and
TTL: ``(rrname, rrtype, rdata set, rcode, sensor, evidence, source,
bailiwick, sample, zone)``, where ``zone`` is the zone-file window and
``zone_only`` flag of an imported zone sighting (None for traffic), so
zone-file times never fold into traffic times. Folding keeps ``time_first = min``, ``time_last = max``
and ``count = sum`` exact (a drop-duplicates cache would lose all three).

TTLs differ between repeats (a resolver's cache counts down), and the store
keeps ``ttl_min``/``ttl_max``. So a key whose repeats carried different TTLs
drains as two observations: one with the largest TTL and ``count - 1``, one
with the smallest TTL and a count of 1; both inside ``[first, last]``, so
every aggregate the store computes (first, last, count, TTL range) is
exactly what it would have been without folding.

Memory is bounded by the caller: ``len(aggregator)`` is the number of keys,
and the pipeline drains when it reaches its limit or the window ends. A key
costs about 220 bytes (docs/performance.md): it is held as one msgpack
``bytes`` object, and its numbers in flat 64-bit arrays.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

import msgspec

from yapdns.core.model import Evidence, Observation, SampleRef
from yapdns.core.normalize import MAX_COUNT

_NO_TTL = -1
_Zone = tuple[int, int, bool]  # zone_time_first, zone_time_last, zone_only
_RawKey = tuple[
    str,
    str,
    tuple[str, ...],
    str | None,
    str | None,
    str,
    str | None,
    str | None,
    tuple[str, str | None] | None,
    _Zone | None,
]
_encode_key = msgspec.msgpack.Encoder().encode
_decode_key = msgspec.msgpack.Decoder(_RawKey).decode


def key_bytes(obs: Observation) -> bytes:
    """The fold key of ``obs``, packed."""
    sample = (obs.sample.sha256, obs.sample.task_id) if obs.sample else None
    zone = None if obs.zone_time_first is None else (obs.zone_time_first, obs.zone_time_last, obs.zone_only)
    return _encode_key(
        (
            obs.rrname,
            obs.rrtype,
            obs.rdata,
            obs.rcode,
            obs.sensor_id,
            obs.evidence,
            obs.source,
            obs.bailiwick,
            sample,
            zone,
        )
    )


class FoldedWindow:
    """One drained window: iterate it once for its observations (the memory goes as it is read)."""

    def __init__(self, slots: dict[bytes, int], numbers: list[array[int]], spilled: list[Observation]) -> None:
        self._slots = slots
        self._numbers = numbers
        self._spilled = spilled

    def __len__(self) -> int:
        return len(self._slots) + len(self._spilled)

    def __iter__(self) -> Iterator[Observation]:
        first, last, count, ttl_min, ttl_max = self._numbers
        yield from self._spilled
        self._spilled = []
        slots = self._slots
        while slots:
            key, slot = slots.popitem()
            yield from _observations(key, first[slot], last[slot], count[slot], ttl_min[slot], ttl_max[slot])
        self._numbers = [array("q") for _ in range(5)]


class ObservationAggregator:
    """Folds observations by key; ``drain()`` hands back the folded ones and starts a new window."""

    def __init__(self) -> None:
        self.observations_in = 0
        self._reset()

    def _reset(self) -> None:
        self._slots: dict[bytes, int] = {}
        self._first, self._last, self._count, self._ttl_min, self._ttl_max = (array("q") for _ in range(5))
        self._spilled: list[Observation] = []  # folds whose count would pass MAX_COUNT

    def __len__(self) -> int:
        return len(self._slots)

    def add(self, observations: Iterable[Observation]) -> None:
        slots = self._slots
        first, last, count, ttl_min, ttl_max = self._first, self._last, self._count, self._ttl_min, self._ttl_max
        for obs in observations:
            self.observations_in += 1
            key = key_bytes(obs)
            ttl = _NO_TTL if obs.ttl is None else obs.ttl
            slot = slots.get(key)
            if slot is None:
                slots[key] = len(first)
                first.append(obs.time_first)
                last.append(obs.time_last)
                count.append(obs.count)
                ttl_min.append(ttl)
                ttl_max.append(ttl)
                continue
            if count[slot] + obs.count > MAX_COUNT:
                self._spill(key, slot)
            first[slot] = min(first[slot], obs.time_first)
            last[slot] = max(last[slot], obs.time_last)
            count[slot] += obs.count
            if ttl != _NO_TTL:
                ttl_min[slot] = ttl if ttl_min[slot] == _NO_TTL else min(ttl_min[slot], ttl)
                ttl_max[slot] = max(ttl_max[slot], ttl)

    def drain(self) -> FoldedWindow:
        """Every folded observation, as a window to iterate once; the aggregator starts empty."""
        numbers = [self._first, self._last, self._count, self._ttl_min, self._ttl_max]
        window = FoldedWindow(self._slots, numbers, self._spilled)
        self._reset()
        return window

    def _spill(self, key: bytes, slot: int) -> None:
        """A count about to pass what one observation may carry: set the fold aside, restart the slot."""
        c = self._count
        self._spilled += _observations(
            key, self._first[slot], self._last[slot], c[slot], self._ttl_min[slot], self._ttl_max[slot]
        )
        self._first[slot], self._last[slot], c[slot] = 2**32, 0, 0
        self._ttl_min[slot] = self._ttl_max[slot] = _NO_TTL


def _observations(key: bytes, first: int, last: int, count: int, ttl_min: int, ttl_max: int) -> list[Observation]:
    if ttl_min == ttl_max:
        return [_observation(key, first, last, count, None if ttl_max == _NO_TTL else ttl_max)]
    return [_observation(key, first, last, count - 1, ttl_max), _observation(key, first, first, 1, ttl_min)]


def _observation(key: bytes, first: int, last: int, count: int, ttl: int | None) -> Observation:
    rrname, rrtype, rdata, rcode, sensor_id, evidence, source, bailiwick, sample, zone = _decode_key(key)
    zone_first, zone_last, zone_only = zone if zone else (None, None, False)
    if zone_only:  # its window is its zone window (also for the TTL split's second observation)
        first, last = zone_first, zone_last  # type: ignore[assignment]
    return Observation(
        rrname=rrname,
        rrtype=rrtype,
        rdata=rdata,
        time_first=first,
        time_last=last,
        zone_time_first=zone_first,
        zone_time_last=zone_last,
        zone_only=zone_only,
        count=count,
        ttl=ttl,
        rcode=rcode,
        bailiwick=bailiwick,
        sensor_id=sensor_id,
        source=source,
        evidence=Evidence(evidence),
        sample=SampleRef(*sample) if sample else None,
    )
