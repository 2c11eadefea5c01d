"""The extremes validation lets through are stored alike by every backend, never failing a batch.

Counts saturate at COUNT_CEILING on every backend: the same stored value after the same batches, no failure.

Observations at the per-observation maximum cannot reach the ceiling in a test's time (2**22 of them are
needed), so these tests hand the store counts at the ceiling directly: what a long-lived store reaches after
years of sightings, and what the old code failed on (SQLite OverflowError or a float, PostgreSQL "bigint out
of range", both a 503 on every retry).
"""

from __future__ import annotations

import msgspec
import pytest

from tests.storage.builders import by_name, obs
from tests.storage.conftest import StoreFactory
from yapdns.core.model import Observation
from yapdns.core.normalize import COUNT_CEILING, MAX_COUNT
from yapdns.storage.base import BatchRef, Store

SHA = "cd" * 32
NAME = "sat.example.com"


def at(count: int, observation: Observation) -> Observation:
    """``observation`` with a count beyond what validation lets one observation carry."""
    return msgspec.structs.replace(observation, count=count)


def every_kind(count: int) -> list[Observation]:
    """One observation of every row kind the store keeps, all with ``count``, under two provenances."""
    return [
        at(count, obs(NAME, "A", "192.0.2.1", sensor="s1")),
        at(count, obs(NAME, "A", "192.0.2.1", sensor="s1/sub")),  # the same RR under a second provenance
        at(count, obs(NAME, "A", "192.0.2.1", "192.0.2.2", bailiwick="example.com")),
        at(count, obs(NAME, "TXT", '"x"', sample=SHA)),
        at(count, obs("nx." + NAME, "A", rcode="NXDOMAIN", sample=SHA)),
        at(count, obs("asked." + NAME, "AAAA")),
    ]


def stored(store: Store) -> dict[str, object]:
    """Every count the store reports for the rows of ``every_kind``."""
    return {
        "rr": {(r.rrtype, r.rdata): r.count for r in store.records(by_name(NAME)).rows},
        "rr_seen": sorted(p.count for p in store.provenance(NAME, "A", "192.0.2.1")),
        "rrset": sorted(r.count for r in store.rrsets(by_name(NAME)).rows),
        "negative": [n.count for n in store.negatives(by_name("nx." + NAME)).rows],
        "qname": [q.count for q in store.queries(by_name("asked." + NAME)).rows],
        "rr_sample": [s.count for s in store.samples(NAME, "TXT", '"x"')],
        "name_sample": [s.count for s in store.name_samples("nx." + NAME)],
        "rr_sensor": {(r.rrtype, r.rdata): r.count for r in store.records(by_name(NAME, sensor="s1")).rows},
        "name_prov": sorted(p.count for p in store.name_provenance(NAME)),
        "top": [(n.rrname, n.count) for n in store.scan_top_names(1)],
        "negative_sensor": [n.count for n in store.negatives(by_name("nx." + NAME, sensor="s1")).rows],
        "observations": store.stats().observations,
        "hourly": sum(b.observations for b in store.ingest_history(0)),
    }


# How many observations of ``every_kind`` each stored row sums.
SIGHTINGS = {
    "rr": {("A", "192.0.2.1"): 3, ("A", "192.0.2.2"): 1, ("TXT", '"x"'): 1},
    "rr_seen": [1, 2],  # s1/sub, s1 (the RRset observation is s1's too)
    "rrset": [1, 1, 2],  # the two-RR RRset, TXT, the one-RR RRset
    "rr_sensor": {("A", "192.0.2.1"): 3, ("A", "192.0.2.2"): 1, ("TXT", '"x"'): 1},  # summed over s1 and s1/sub
    "name_prov": [1, 4],  # s1/sub; s1: two A sightings, the RRset's second RR, the TXT
    "top": {NAME: 5},  # every RR sighting of the name
    "negative_sensor": [1],
    "negative": [1],
    "qname": [1],
    "rr_sample": [1],
    "name_sample": [1],
    "observations": 6,
    "hourly": 6,
}


def expected(*counts: int) -> dict[str, object]:
    """What the store holds after ``every_kind(c)`` for each ``c``: exact sums, saturated at the ceiling."""

    def total(times: int) -> int:
        return min(sum(times * c for c in counts), COUNT_CEILING)

    out: dict[str, object] = {}
    for key, times in SIGHTINGS.items():
        if key == "top":
            out[key] = [(k, total(t)) for k, t in times.items()]  # type: ignore[union-attr]
        elif isinstance(times, dict):
            out[key] = {k: total(t) for k, t in times.items()}
        elif isinstance(times, list):
            out[key] = sorted(total(t) for t in times)
        else:
            out[key] = total(times)
    return out


@pytest.mark.parametrize("batches", [1, 3])
def test_counts_at_the_ceiling_saturate_on_every_row_kind(store: Store, batches: int) -> None:
    for n in range(batches):
        store.write(every_kind(COUNT_CEILING), BatchRef("s1", f"ceiling-{n}"))
    assert stored(store) == expected(*[COUNT_CEILING] * batches)


def test_sums_that_pass_the_ceiling_saturate_in_one_batch_and_across_batches(store: Store) -> None:
    small = COUNT_CEILING // 8 - MAX_COUNT  # six of these fit; the RR seen three times per batch nearly fills up
    store.write(every_kind(small), BatchRef("s1", "small"))
    assert stored(store) == expected(small)
    store.write(every_kind(small) + every_kind(small), BatchRef("s1", "double"))  # folded in one batch
    assert stored(store) == expected(small, small, small)
    store.write(every_kind(MAX_COUNT), BatchRef("s1", "more"))
    assert stored(store) == expected(small, small, small, MAX_COUNT)
    for n in range(4):
        store.write(every_kind(COUNT_CEILING // 4), BatchRef("s1", f"past-{n}"))
    assert stored(store) == expected(COUNT_CEILING)
    assert stored(store)["rr"] == dict.fromkeys(SIGHTINGS["rr"], COUNT_CEILING)  # type: ignore[arg-type]


def test_backends_agree_after_the_same_batches(store_factory: StoreFactory) -> None:
    """The same batches, through the writer's cached and uncached paths, give the exact same counts."""
    first, second = store_factory(), store_factory()  # two stores over one database: the second has a cold cache
    first.write(every_kind(COUNT_CEILING // 3), BatchRef("s1", "a"))
    second.write(every_kind(COUNT_CEILING // 3), BatchRef("s1", "b"))
    first.write(every_kind(COUNT_CEILING // 3 + 5), BatchRef("s1", "c"))
    thirds = (COUNT_CEILING // 3, COUNT_CEILING // 3, COUNT_CEILING // 3 + 5)
    assert stored(first) == stored(second) == expected(*thirds)
