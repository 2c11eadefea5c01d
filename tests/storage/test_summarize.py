"""Whole-result summaries and sorts (``Store.summarize``, ``Store.ranked_records``) on every store backend."""

from __future__ import annotations

import pytest

from tests.storage.conftest import StoreFactory
from yapdns.core.model import Evidence, Observation
from yapdns.storage.base import BatchRef, Store
from yapdns.storage.query import IpRange, NameMatch, RecordQuery, TimeFence

DAY = 86400
T0 = 1_750_000_000 - 1_750_000_000 % DAY  # a UTC midnight


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()


def obs(name: str, rrtype: str, rdata: str, first: int, last: int, count: int = 1, **extra: object) -> Observation:
    extra.setdefault("sensor_id", "edge")
    return Observation(rrname=name, rrtype=rrtype, rdata=(rdata,), time_first=first, time_last=last, count=count,
                       **extra)  # type: ignore[arg-type]


@pytest.fixture
def zone(store: Store) -> Store:
    """``flux.test`` with 30 A records spread over 30 days, and a few names under ``zone.test``."""
    flux = [obs("flux.test", "A", f"192.0.2.{i}", T0 + i * DAY, T0 + i * DAY + 3600, i + 1) for i in range(30)]
    store.write(flux, BatchRef("edge", "flux"))
    store.write([
        obs("www.zone.test", "CNAME", "zone.test", T0, T0 + 5 * DAY, 50),
        obs("a.zone.test", "A", "192.0.2.1", T0 + DAY, T0 + 2 * DAY, 7),
        obs("a.zone.test", "TXT", '"hello"', T0 + DAY, T0 + DAY, 1, evidence=Evidence.INDIRECT),
        obs("b.c.zone.test", "A", "198.51.100.1", T0 + 3 * DAY, T0 + 9 * DAY, 2),
    ], BatchRef("edge", "zone"))
    return store


def test_a_name_is_summarized_over_its_whole_history(zone: Store) -> None:
    s = zone.summarize(RecordQuery(rrname=NameMatch.parse("flux.test"), limit=5))  # the limit does not cut it
    assert (s.records, s.names, s.limited) == (30, 1, False)
    assert s.count == sum(range(1, 31))
    assert (s.time_first, s.time_last) == (T0, T0 + 29 * DAY + 3600)
    assert [(t.rrtype, t.records) for t in s.by_type] == [("A", 30)]
    assert s.first_days == [(T0 + i * DAY, 1) for i in range(30)]
    assert s.last_days == s.first_days
    assert [(g.sensor, g.evidence, g.records) for g in s.sightings] == [("edge", "direct", 30)]
    assert s.rrsets == 30


def test_a_zone_counts_its_names_and_busiest_children(zone: Store) -> None:
    s = zone.summarize(RecordQuery(rrname=NameMatch.parse("*.zone.test")), top=2)
    assert (s.records, s.names, s.count) == (4, 3, 60)
    assert [(n.rrname, n.records, n.count) for n in s.top_names] == [("www.zone.test", 1, 50), ("a.zone.test", 2, 8)]
    assert {t.rrtype: t.records for t in s.by_type} == {"A": 2, "CNAME": 1, "TXT": 1}
    assert {(g.evidence, g.records) for g in s.sightings} == {("direct", 3), ("indirect", 1)}
    assert zone.summarize(RecordQuery(rrname=NameMatch.parse("zone.test"))).records == 0


def test_the_scan_bound_is_reported(zone: Store) -> None:
    s = zone.summarize(RecordQuery(rrname=NameMatch.parse("flux.test")), scan_max=10)
    assert s.limited and s.records == 11


def test_filters_and_fences_apply(zone: Store) -> None:
    fenced = zone.summarize(RecordQuery(rrname=NameMatch.parse("flux.test"), fence=TimeFence(first_after=T0 + 20 * DAY)))
    assert fenced.records == 10
    indirect = zone.summarize(RecordQuery(rrname=NameMatch.parse("*.zone.test"), evidence=Evidence.INDIRECT))
    assert (indirect.records, indirect.count, [t.rrtype for t in indirect.by_type]) == (1, 1, ["TXT"])
    by_ip = zone.summarize(RecordQuery(rdata_ip=IpRange.parse("192.0.2.1")))
    assert (by_ip.names, by_ip.rrsets) == (2, None)
    assert {n.rrname for n in by_ip.top_names} == {"flux.test", "a.zone.test"}


def test_ranked_records_sort_the_whole_result(zone: Store) -> None:
    query = RecordQuery(rrname=NameMatch.parse("flux.test"), limit=3)
    top = zone.ranked_records(query, "count")
    assert [r.count for r in top.rows] == [30, 29, 28] and top.limited
    second = zone.ranked_records(RecordQuery(rrname=NameMatch.parse("flux.test"), limit=3, offset=3), "count")
    assert [r.count for r in second.rows] == [27, 26, 25]
    oldest = zone.ranked_records(query, "time_first", descending=False)
    assert [r.rdata for r in oldest.rows] == ["192.0.2.0", "192.0.2.1", "192.0.2.2"]
    last = zone.ranked_records(RecordQuery(rrname=NameMatch.parse("flux.test"), limit=5, offset=28), "time_last")
    assert len(last.rows) == 2 and not last.limited


def test_count_records_is_bounded(zone: Store) -> None:
    flux = RecordQuery(rrname=NameMatch.parse("flux.test"))
    assert zone.count_records(flux, 100) == 30
    assert zone.count_records(flux, 10) == 10
    fenced = RecordQuery(rrname=NameMatch.parse("flux.test"), fence=TimeFence(first_after=T0 + 20 * DAY))
    assert zone.count_records(fenced, 100) == 10
    indirect = RecordQuery(rrname=NameMatch.parse("*.zone.test"), evidence=Evidence.INDIRECT)
    assert zone.count_records(indirect, 100) == 1
    assert zone.count_records(RecordQuery(rdata_ip=IpRange.parse("192.0.2.0/24")), 100) == 31


def test_sightings_count_a_record_once_per_sensor_and_evidence(zone: Store) -> None:
    zone.write([
        obs("a.zone.test", "A", "192.0.2.1", T0, T0 + 3 * DAY, 5, source="other"),
        obs("a.zone.test", "A", "192.0.2.1", T0 + DAY, T0 + 4 * DAY, 3, sensor_id="edge/b"),
    ], BatchRef("edge", "more"))
    s = zone.summarize(RecordQuery(rrname=NameMatch.parse("a.zone.test"), sensor="edge"))
    assert [(g.sensor, g.evidence, g.records, g.count) for g in s.sightings] == [
        ("edge", "direct", 1, 12), ("edge/b", "direct", 1, 3), ("edge", "indirect", 1, 1)]
    assert (s.records, s.count, s.time_first, s.time_last) == (2, 16, T0, T0 + 4 * DAY)
    core = zone.summarize(RecordQuery(rrname=NameMatch.parse("a.zone.test"), sensor="core"))
    assert (core.records, core.sightings) == (0, [])
