"""``Store.discoveries``, ``first_under`` and ``readdressed``: reads in storage order, resumable, on every backend."""

from __future__ import annotations

import pytest

from tests.storage.conftest import StoreFactory
from yapdns.core.model import Observation
from yapdns.storage.base import BatchRef, Store


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()


def obs(name: str, rdata: str, first: int) -> Observation:
    return Observation(rrname=name, rrtype="A", rdata=(rdata,), time_first=first, time_last=first + 10, count=1)


def names(store: Store, after: int = 0, scan: int = 10_000, within: str | None = None) -> list[str]:
    return [d.rrname for d in store.discoveries(after, scan, within).rows]


def test_each_name_is_discovered_once_in_storage_order(store: Store) -> None:
    store.write([obs("b.example", "192.0.2.1", 500), obs("a.example", "192.0.2.1", 900)], BatchRef("s", "1"))
    store.write([obs("b.example", "192.0.2.2", 100), obs("c.example", "192.0.2.3", 50)], BatchRef("s", "2"))
    found = store.discoveries(0).rows
    assert [d.rrname for d in found][-1] == "c.example" and sorted(d.rrname for d in found) == ["a.example", "b.example", "c.example"]
    b = next(d for d in found if d.rrname == "b.example")
    assert (b.first_seen, b.last_seen, b.records) == (100, 510, 2)  # the later, earlier sighting corrected it
    assert [d.seq for d in found] == sorted(d.seq for d in found)


def test_resuming_from_a_cursor_has_no_gap_and_no_repeat(store: Store) -> None:
    store.write([obs(f"n{i}.example", "192.0.2.1", 1000 + i) for i in range(30)], BatchRef("s", "1"))
    seen: list[str] = []
    cursor = 0
    for _ in range(20):
        page = store.discoveries(cursor, scan=7)
        seen += [d.rrname for d in page.rows]
        if page.scanned_to == cursor:
            break
        cursor = page.scanned_to
    assert sorted(seen) == sorted(f"n{i}.example" for i in range(30)) and len(seen) == 30
    store.write([obs("n3.example", "192.0.2.9", 10), obs("late.example", "192.0.2.9", 10)], BatchRef("s", "2"))
    assert names(store, cursor) == ["late.example"]  # a backfill of a known name is not announced again
    assert store.discoveries(store.discoveries(cursor).scanned_to).rows == []


def test_within_keeps_a_subtree(store: Store) -> None:
    store.write([obs("x.evil.example", "192.0.2.1", 1), obs("evil.example", "192.0.2.1", 1),
                 obs("other.example", "192.0.2.1", 1), obs("notevil.example", "192.0.2.1", 1)], BatchRef("s", "1"))
    assert sorted(names(store, within="evil.example")) == ["evil.example", "x.evil.example"]


def test_first_under_tells_a_new_subtree(store: Store) -> None:
    store.write([obs("www.old.example", "192.0.2.1", 1)], BatchRef("s", "1"))
    store.write([obs("mail.old.example", "192.0.2.1", 1), obs("www.fresh.example", "192.0.2.1", 1)], BatchRef("s", "2"))
    seq = {d.rrname: d.seq for d in store.discoveries(0).rows}
    assert store.first_under("old.example", seq["www.old.example"])
    assert not store.first_under("old.example", seq["mail.old.example"])
    assert store.first_under("fresh.example", seq["www.fresh.example"])
    assert not store.first_under("fresh.example", seq["www.fresh.example"] + 1)


def test_readdressed_names_in_storage_order(store: Store) -> None:
    store.write([obs("flux.example", "192.0.2.1", 1), obs("flux.example", "192.0.2.2", 1)], BatchRef("s", "1"))
    names_, cursor = store.readdressed(0)
    assert names_ == ["flux.example"]
    store.write([Observation(rrname="mx.example", rrtype="MX", rdata=("10 m.example",), time_first=1, time_last=1, count=1),
                 obs("flux.example", "192.0.2.1", 5), obs("other.example", "192.0.2.9", 5)], BatchRef("s", "2"))
    again, end = store.readdressed(cursor)
    assert again == ["other.example"] and end > cursor  # a known address again is not new
    assert store.readdressed(end) == ([], end)


def test_readdressed_names_a_new_cname_target(store: Store) -> None:
    """A new CNAME target re-points an alias (its lookups end elsewhere); the same target again does not."""
    def cname(name: str, target: str, first: int) -> Observation:
        return Observation(rrname=name, rrtype="CNAME", rdata=(target,), time_first=first, time_last=first, count=1)

    store.write([cname("shop.example", "lb.hoster.example", 1)], BatchRef("s", "1"))
    first, cursor = store.readdressed(0)
    assert first == ["shop.example"]
    store.write([cname("shop.example", "lb.hoster.example", 9), obs("quiet.example", "192.0.2.1", 9)], BatchRef("s", "2"))
    store.write([cname("shop.example", "takeover.attacker.example", 9)], BatchRef("s", "3"))
    again, end = store.readdressed(cursor)
    assert again == ["quiet.example", "shop.example"] and end > cursor
    assert store.readdressed(end) == ([], end)
