"""The ``Store`` contract, part 3: zone-file times are kept apart from traffic times, on every backend.

The rule (``core/windows.py``, docs/storage.md) a backend must implement:

* a record's ``time_first``/``time_last`` is the hull of its traffic sightings;
  when it was only ever seen in zone files, the hull of its zone windows, and
  ``zone_only`` is true;
* ``zone_time_first``/``zone_time_last`` is the hull of its zone-file
  sightings, None when there were none;
* the first traffic sighting of a zone-only record replaces its window
  (whatever the order of writes, groups or observations inside a write);
* ``count`` sums every sighting; the same holds per RRset and per provenance;
* the four fences apply to ``time_first``/``time_last`` as just defined: the
  traffic window, or the zone window of a zone-only record.

Every expected value is worked out by hand from the observations each test writes.
"""

from __future__ import annotations

from itertools import permutations

import pytest

from tests.storage.builders import T0, by_name, fence, obs, types, zone_only
from tests.storage.conftest import StoreFactory
from yapdns.core.model import Evidence, Provenance, Record, RRsetRecord
from yapdns.core.windows import Windows
from yapdns.storage.base import BatchRef, Store

Z = (T0 - 1000, T0 + 1000)  # a zone-file window around every traffic time below
IMPORTED = {"sensor": "import", "evidence": Evidence.IMPORTED, "source": "dnsdb"}


def record(store: Store, name: str, rrtype: str = "A") -> Record:
    rows = store.records(by_name(name, types=types(rrtype))).rows
    assert len(rows) == 1, rows
    return rows[0]


def windows(rec: Record | RRsetRecord | Provenance) -> Windows:
    return Windows.of(rec)


def test_a_zone_only_record_keeps_its_zone_times_as_zone_times(store: Store) -> None:
    store.write([zone_only("z.example", "A", "192.0.2.1", zone=Z, count=2, bailiwick="example", **IMPORTED)])
    store.write([zone_only("z.example", "A", "192.0.2.1", zone=(T0 + 5, T0 + 2000), **IMPORTED)])
    hull = Windows(T0 - 1000, T0 + 2000, T0 - 1000, T0 + 2000, zone_only=True)
    rec = record(store, "z.example")
    assert (windows(rec), rec.count) == (hull, 3)
    rrsets = store.rrsets(by_name("z.example")).rows
    assert [(r.bailiwick, windows(r), r.count) for r in rrsets] == [
        (None, Windows(T0 + 5, T0 + 2000, T0 + 5, T0 + 2000, zone_only=True), 1),
        ("example", Windows(*Z, *Z, zone_only=True), 2),
    ]
    (prov,) = store.provenance("z.example", "A", "192.0.2.1")
    assert (prov.sensor_id, windows(prov), prov.count) == ("import", hull, 3)
    assert (store.stats().records, store.stats().rrsets) == (1, 2)


def test_the_first_traffic_sighting_replaces_the_zone_window(store: Store) -> None:
    store.write([zone_only("r.example", "A", "192.0.2.1", zone=Z)])
    store.write([obs("r.example", "A", "192.0.2.1", first=T0 + 10, last=T0 + 20, count=4)])
    store.write([obs("r.example", "A", "192.0.2.1", first=T0 + 5, last=T0 + 6)])
    rec = record(store, "r.example")
    assert windows(rec) == Windows(T0 + 5, T0 + 20, *Z, zone_only=False)
    assert rec.count == 6
    (rrset,) = store.rrsets(by_name("r.example")).rows
    assert windows(rrset) == Windows(T0 + 5, T0 + 20, *Z, zone_only=False)
    (prov,) = store.provenance("r.example", "A", "192.0.2.1")
    assert windows(prov) == Windows(T0 + 5, T0 + 20, *Z, zone_only=False)


def test_a_zone_sighting_of_a_traffic_record_adds_only_its_zone_window(store: Store) -> None:
    store.write([obs("t.example", "A", "192.0.2.1", first=T0, last=T0 + 9, count=2)])
    store.write([zone_only("t.example", "A", "192.0.2.1", zone=Z)])
    store.write([zone_only("t.example", "A", "192.0.2.1", zone=(T0 + 3, T0 + 3000))])
    rec = record(store, "t.example")
    assert windows(rec) == Windows(T0, T0 + 9, T0 - 1000, T0 + 3000, zone_only=False)
    assert rec.count == 4


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_order_inside_one_write_does_not_matter(store: Store, order: tuple[int, ...]) -> None:
    sightings = [
        zone_only("o.example", "A", "192.0.2.1", zone=Z),
        obs("o.example", "A", "192.0.2.1", first=T0 + 10, last=T0 + 20),
        obs("o.example", "A", "192.0.2.1", first=T0 + 30, last=T0 + 40, zone=(T0 + 1, T0 + 5000)),
    ]
    store.write([sightings[i] for i in order])
    rec = record(store, "o.example")
    assert windows(rec) == Windows(T0 + 10, T0 + 40, T0 - 1000, T0 + 5000, zone_only=False)
    assert rec.count == 3


def test_one_observation_may_carry_both_windows(store: Store) -> None:
    store.write([obs("m.example", "A", "192.0.2.1", "192.0.2.2", first=T0, last=T0 + 9, zone=Z, count=7)])
    rows = store.records(by_name("m.example")).rows
    assert [(r.rdata, windows(r), r.count) for r in rows] == [
        ("192.0.2.1", Windows(T0, T0 + 9, *Z, zone_only=False), 7),
        ("192.0.2.2", Windows(T0, T0 + 9, *Z, zone_only=False), 7),
    ]
    (rrset,) = store.rrsets(by_name("m.example")).rows
    assert (rrset.rdata, windows(rrset)) == (("192.0.2.1", "192.0.2.2"), Windows(T0, T0 + 9, *Z, zone_only=False))


def test_each_provenance_keeps_its_own_windows(store: Store) -> None:
    store.write(
        [
            zone_only("p.example", "A", "192.0.2.1", zone=Z, count=3, **IMPORTED),
            obs("p.example", "A", "192.0.2.1", first=T0 + 10, last=T0 + 20, sensor="s1"),
        ]
    )
    assert [(p.sensor_id, windows(p), p.count) for p in store.provenance("p.example", "A", "192.0.2.1")] == [
        ("import", Windows(*Z, *Z, zone_only=True), 3),
        ("s1", Windows(T0 + 10, T0 + 20, None, None, zone_only=False), 1),
    ]
    imported = store.records(by_name("p.example", evidence=Evidence.IMPORTED)).rows
    assert [(windows(r), r.count) for r in imported] == [(Windows(*Z, *Z, zone_only=True), 3)]
    both = store.records(by_name("p.example", sensor="s1")).rows + store.records(by_name("p.example")).rows
    assert [(windows(r), r.count) for r in both] == [
        (Windows(T0 + 10, T0 + 20, None, None, zone_only=False), 1),
        (Windows(T0 + 10, T0 + 20, *Z, zone_only=False), 4),
    ]
    assert [(p.sensor_id, windows(p)) for p in store.name_provenance("p.example")] == [
        ("import", Windows(*Z, *Z, zone_only=True)),
        ("s1", Windows(T0 + 10, T0 + 20, None, None, zone_only=False)),
    ]


@pytest.mark.parametrize("sensor", [None, "s1"])
def test_fences_apply_to_the_traffic_window_or_else_the_zone_window(store: Store, sensor: str | None) -> None:
    store.write(
        [
            zone_only("zo.f.example", "A", "192.0.2.1", zone=Z, sensor="s1"),
            obs("mixed.f.example", "A", "192.0.2.2", first=T0, last=T0 + 10, zone=Z, sensor="s1"),
            obs("traffic.f.example", "A", "192.0.2.3", first=T0 + 400, last=T0 + 600, sensor="s1"),
        ]
    )

    def fenced(**bounds: int) -> list[str]:
        rows = store.records(by_name("*.f.example", sensor=sensor, fence=fence(**bounds))).rows
        return sorted(r.rrname.split(".")[0] for r in rows)

    assert fenced(last_after=T0 + 500) == ["traffic", "zo"]  # mixed: its traffic ended at T0 + 10
    assert fenced(first_before=T0 - 500) == ["zo"]  # mixed: its zone window starts earlier, but it has traffic
    assert fenced(first_after=T0, last_before=T0 + 10) == ["mixed"]
    assert fenced(first_after=T0 - 1000, last_before=T0 + 1000) == ["mixed", "traffic", "zo"]
    rrsets = store.rrsets(by_name("*.f.example", fence=fence(last_after=T0 + 500))).rows
    assert sorted(r.rrname.split(".")[0] for r in rrsets) == ["traffic", "zo"]


def test_zone_times_survive_a_replayed_batch_and_a_second_writer(store_factory: StoreFactory) -> None:
    first, second = store_factory(), store_factory()
    batch = [zone_only("w.example", "A", "192.0.2.1", zone=Z)]
    assert not first.write(batch, BatchRef("s1", "zone-1", 1, 0)).replayed
    assert second.write(batch, BatchRef("s1", "zone-1", 1, 0)).replayed
    second.write([obs("w.example", "A", "192.0.2.1", first=T0, last=T0 + 1)])
    first.write([obs("w.example", "A", "192.0.2.1", first=T0 - 5, last=T0 + 2)])
    rec = record(first, "w.example")
    assert (windows(rec), rec.count) == (Windows(T0 - 5, T0 + 2, *Z, zone_only=False), 3)
