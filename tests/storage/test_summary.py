"""The dashboard's summary reads (``storage/summary.py``) on every store backend."""

from __future__ import annotations

import pytest

from tests.storage.conftest import StoreFactory
from yapdns.core.model import Evidence, Observation, SampleRef
from yapdns.storage.base import BatchRef, Store

NOW = 1_750_000_000
SHA = "a" * 64


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()


def obs(name: str, rdata: str, first: int, last: int, count: int = 1, **extra: object) -> Observation:
    return Observation(
        rrname=name, rrtype="A", rdata=(rdata,), time_first=first, time_last=last, count=count, **extra  # type: ignore[arg-type]
    )


def write(store: Store, sensor: str, observations: list[Observation]) -> None:
    store.write(observations, BatchRef(sensor, f"{sensor}-{len(observations)}-{observations[0].rrname}"))


def test_name_provenance_sums_over_the_names_records(store: Store) -> None:
    write(store, "a", [obs("x.example", "192.0.2.1", 100, 200, 3, sensor_id="a"),
                       obs("x.example", "192.0.2.2", 50, 300, 4, sensor_id="a")])
    write(store, "b", [obs("x.example", "192.0.2.1", 400, 500, 2, sensor_id="b", evidence=Evidence.INDIRECT),
                       obs("y.example", "192.0.2.1", 1, 2, 9, sensor_id="b")])
    rows = {(p.sensor_id, p.evidence): (p.time_first, p.time_last, p.count) for p in store.name_provenance("x.example")}
    assert rows == {("a", Evidence.DIRECT): (50, 300, 7), ("b", Evidence.INDIRECT): (400, 500, 2)}
    assert store.name_provenance("nothing.example") == []


def test_name_samples_group_per_sample(store: Store) -> None:
    sample = SampleRef(sha256=SHA, task_id="7")
    write(store, "s", [obs("c2.example", "192.0.2.9", 10, 20, 1, sample=sample),
                       obs("c2.example", "192.0.2.10", 15, 40, 2, sample=sample)])
    [link] = store.name_samples("c2.example")
    assert (link.sha256, link.task_id, link.time_first, link.time_last, link.count) == (SHA, "7", 10, 40, 3)


def test_new_names_are_names_whose_first_record_is_recent(store: Store) -> None:
    write(store, "s", [obs("old.example", "192.0.2.1", NOW - 900, NOW - 800),
                       obs("old.example", "192.0.2.2", NOW - 50, NOW),  # a new record of an old name
                       obs("new.example", "192.0.2.3", NOW - 60, NOW, 5),
                       obs("newer.example", "192.0.2.4", NOW - 10, NOW)])
    found = store.new_names(NOW - 100)
    assert [n.rrname for n in found] == ["newer.example", "new.example"]
    assert found[1].count == 5 and found[1].records == 1


def test_top_names_by_observations(store: Store) -> None:
    write(store, "s", [obs("a.example", "192.0.2.1", 1, 2, 5), obs("a.example", "192.0.2.2", 1, 2, 6),
                       obs("b.example", "192.0.2.1", 1, 2, 20), obs("c.example", "192.0.2.1", 1, 2, 1)])
    top = store.scan_top_names(2)
    assert [(n.rrname, n.records, n.count) for n in top] == [("b.example", 1, 20), ("a.example", 2, 11)]
