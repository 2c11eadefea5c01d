"""Folding repeats must not change any aggregate the store computes: first, last, count, TTL range."""

from __future__ import annotations

from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from yapdns.agent.aggregator import ObservationAggregator
from yapdns.agent.parsers.cof import CofParser
from yapdns.agent.parsing import ParseRun
from yapdns.core.model import Evidence, Observation
from yapdns.core.normalize import MAX_COUNT, normalize_observation
from yapdns.storage.base import BatchRef
from yapdns.storage.query import NameMatch, RecordQuery
from yapdns.storage.sqlite.store import SqliteStore

COF = Path(__file__).parent / "parsers" / "golden" / "cof" / "pdns-qof-server_README.ndjson"

NAMES = ["www.example.com", "mail.example.com"]
def _observation(
    name: str, addr: int, first: int, span: int, count: int, ttl: int | None, evidence: Evidence, seen: str, zf: int
) -> Observation:
    """A sighting in traffic, in zone files only (its times are the zone times) or both."""
    zone = {} if seen == "traffic" else {"zone_time_first": zf, "zone_time_last": zf + 50}
    times = {"time_first": zf, "time_last": zf + 50} if seen == "zone" else {"time_first": first,
                                                                            "time_last": first + span}
    return normalize_observation(
        Observation(rrname=name, rrtype="A", rdata=(f"192.0.2.{addr}",), **times, **zone, zone_only=seen == "zone",
                    count=count, ttl=ttl, evidence=evidence, source="test")  # type: ignore[arg-type]
    )


observations = st.builds(
    _observation,
    st.sampled_from(NAMES),
    st.integers(1, 3),
    st.integers(1_600_000_000, 1_600_000_500),
    st.integers(0, 100),
    st.integers(1, 5),
    st.none() | st.integers(0, 3600),
    st.sampled_from([Evidence.DIRECT, Evidence.INDIRECT]),
    st.sampled_from(["traffic", "traffic", "zone", "both"]),
    st.sampled_from([1_599_999_000, 1_600_000_200]),
)


def stored(tmp: Path, name: str, batch: list[Observation]) -> list[tuple[object, ...]]:
    """Every record and provenance row the real store keeps for ``batch``."""
    store = SqliteStore(tmp / f"{name}.sqlite3")
    try:
        store.migrate()
        store.write(batch, BatchRef("s1", name))
        rows: list[tuple[object, ...]] = []
        for rrname in NAMES:
            for r in store.iter_records(RecordQuery(rrname=NameMatch("exact", rrname), limit=1000)):
                rows.append((r.rrname, r.rdata, r.time_first, r.time_last, r.count, r.ttl_min, r.ttl_max,
                             r.zone_time_first, r.zone_time_last, r.zone_only))
                rows += [msgspec.structs.astuple(p) for p in store.provenance(r.rrname, r.rrtype, r.rdata)]
        return sorted(rows, key=repr)
    finally:
        store.close()


@settings(max_examples=25, deadline=None)
@given(st.lists(observations, min_size=1, max_size=40))
def test_folded_and_raw_observations_give_identical_records(tmp_path_factory: object, batch: list[Observation]) -> None:
    tmp = tmp_path_factory.mktemp("fold")  # type: ignore[attr-defined]
    aggregator = ObservationAggregator()
    aggregator.add(batch)
    window = aggregator.drain()
    keys = len(window)
    folded = list(window)
    distinct = {(o.rrname, o.rdata, o.evidence, o.zone_time_first, o.zone_only) for o in batch}
    assert keys == len(distinct)  # zone-file sightings fold only with sightings of the same zone window
    assert len(folded) <= 2 * len(distinct)
    assert sum(o.count for o in folded) == sum(o.count for o in batch)
    assert stored(tmp, "folded", folded) == stored(tmp, "raw", batch)
    assert len(aggregator) == 0 and list(aggregator.drain()) == []


def test_repeats_of_a_real_export_fold_into_exact_counts() -> None:
    lines = COF.read_text().splitlines()
    run = ParseRun(CofParser())
    once = list(run.lines(lines))
    aggregator = ObservationAggregator()
    for _ in range(3):
        aggregator.add(ParseRun(CofParser()).lines(lines))
    folded = {(o.rrname, o.rrtype, o.rdata): o for o in aggregator.drain()}
    assert len(folded) == len({(o.rrname, o.rrtype, o.rdata) for o in once})
    for obs in once:
        got = folded[(obs.rrname, obs.rrtype, obs.rdata)]
        assert (got.time_first, got.time_last, got.count) == (obs.time_first, obs.time_last, 3 * obs.count)
        assert (got.evidence, got.source) == (Evidence.IMPORTED, "cof")
    assert aggregator.observations_in == 3 * len(once)


def test_different_ttls_keep_the_range_and_the_count() -> None:
    base = {"rrname": "a.example", "rrtype": "A", "rdata": ("192.0.2.1",), "time_first": 10, "time_last": 10}
    aggregator = ObservationAggregator()
    aggregator.add(
        [Observation(**{**base, "time_last": 10 + i}, ttl=ttl) for i, ttl in enumerate([300, 120, 299, 60])]  # type: ignore[arg-type]
    )
    aggregator.add([Observation(**base)])  # type: ignore[arg-type]  # no TTL: counted, TTL range unchanged
    out = sorted(aggregator.drain(), key=lambda o: o.ttl or 0)
    assert [(o.ttl, o.count) for o in out] == [(60, 1), (300, 4)]
    assert min(o.time_first for o in out) == 10 and max(o.time_last for o in out) == 13


def test_a_count_that_would_overflow_one_observation_is_split() -> None:
    big = MAX_COUNT // 2 + 1
    obs = Observation(rrname="a.example", rrtype="A", rdata=("192.0.2.1",), time_first=5, time_last=9, count=big)
    aggregator = ObservationAggregator()
    aggregator.add([obs, msgspec.structs.replace(obs, time_first=1, time_last=20), obs])
    out = list(aggregator.drain())
    assert sum(o.count for o in out) == 3 * big and all(o.count <= MAX_COUNT for o in out)
    assert min(o.time_first for o in out) == 1 and max(o.time_last for o in out) == 20
