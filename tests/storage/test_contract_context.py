"""The address context contract (storage/context.py) on every backend: history never overwritten, the address
feed in write order, and the asn/country/prefix filters alone or beside a key."""

from __future__ import annotations

from tests.storage.builders import obs
from yapdns.storage.base import Store
from yapdns.storage.context import ContextFilter, IpContextRow
from yapdns.storage.query import NameMatch, RecordQuery

D2019, D2024, D2026 = 1_546_300_800, 1_718_668_800, 1_767_225_600


def ctx(ip: str, date: int, asn: int | None, country: str, source: str = "GeoLite2-ASN") -> IpContextRow:
    return IpContextRow(ip=ip, source=source, data_date=date, asn=asn, as_name=f"AS-{asn}", prefix="192.0.2.0/24",
                        country=country)


def test_a_new_value_is_added_beside_the_old_never_over_it(store: Store) -> None:
    assert store.add_ip_context([ctx("192.0.2.1", D2019, 64500, "NL")]) == 1
    assert store.add_ip_context([ctx("192.0.2.1", D2024, 64500, "NL")]) == 0  # same value, later data: nothing new
    assert store.add_ip_context([ctx("192.0.2.1", D2026, 64501, "DE")]) == 1  # it moved
    assert store.add_ip_context([ctx("192.0.2.1", D2026, 64502, "FR")]) == 0  # same source and date: a replay
    assert store.add_ip_context([ctx("192.0.2.1", D2024, 64500, "NL", source="geoip2fast")]) == 1  # another source
    history = store.ip_context(["192.0.2.1", "198.51.100.7"])["192.0.2.1"]
    assert [(r.source, r.data_date, r.asn, r.country) for r in history] == [
        ("GeoLite2-ASN", D2019, 64500, "NL"), ("GeoLite2-ASN", D2026, 64501, "DE"), ("geoip2fast", D2024, 64500, "NL")
    ]
    assert all(r.recorded_at > 0 for r in history)
    assert "198.51.100.7" not in store.ip_context(["198.51.100.7"])


def test_ipv6_and_batches_with_repeats(store: Store) -> None:
    rows = [ctx("2001:db8::1", D2024, 64500, "US"), ctx("2001:db8::1", D2024, 64500, "US"),
            ctx("2001:db8::1", D2026, 64500, "US"), ctx("192.0.2.9", D2024, None, "JP")]
    assert store.add_ip_context(rows) == 2
    found = store.ip_context(["2001:db8::1", "192.0.2.9"])
    assert [r.data_date for r in found["2001:db8::1"]] == [D2024]
    assert found["192.0.2.9"][0].asn is None


def test_the_address_feed_walks_new_addresses_in_write_order(store: Store) -> None:
    assert store.address_feed(None, 10).next_cursor is None
    store.write([obs("a.example", "A", "192.0.2.1"), obs("b.example", "A", "192.0.2.1"),
                 obs("c.example", "AAAA", "2001:db8::5"), obs("d.example", "CNAME", "a.example")])
    first = store.address_feed(None, 10)
    assert sorted(first.addresses) == ["192.0.2.1", "2001:db8::5"] and first.next_cursor is not None
    assert store.address_feed(first.next_cursor, 10).next_cursor is None
    store.write([obs("e.example", "A", "198.51.100.2"), obs("a.example", "A", "192.0.2.1", count=3)])
    later = store.address_feed(first.next_cursor, 10)
    assert later.addresses == ["198.51.100.2"]  # an existing record updated is not new


def test_context_filters_alone_and_beside_a_name(store: Store) -> None:
    store.write([obs("a.example", "A", "192.0.2.1"), obs("b.example", "A", "192.0.2.2"),
                 obs("a.example", "A", "198.51.100.3"), obs("a.example", "TXT", '"x"')])
    store.add_ip_context([ctx("192.0.2.1", D2019, 64500, "NL"), ctx("192.0.2.1", D2026, 13335, "US"),
                          ctx("192.0.2.2", D2024, 13335, "US"), ctx("198.51.100.3", D2024, 64501, "NL")])
    alone = store.records(RecordQuery(context=ContextFilter(asn=13335)))
    assert [(r.rrname, r.rdata) for r in alone.rows] == [("a.example", "192.0.2.1"), ("b.example", "192.0.2.2")]
    nl = store.records(RecordQuery(rrname=NameMatch.parse("a.example"), context=ContextFilter(country="NL")))
    assert sorted(r.rdata for r in nl.rows) == ["192.0.2.1", "198.51.100.3"]  # ever in NL, as far as kept
    paged = store.records(RecordQuery(context=ContextFilter(country="US"), limit=1))
    assert paged.limited and paged.next_cursor is not None
    rest = store.records(RecordQuery(context=ContextFilter(country="US"), cursor=paged.next_cursor))
    assert [r.rdata for r in rest.rows] == ["192.0.2.2"]
    by_prefix = store.records(RecordQuery(context=ContextFilter(prefix="192.0.2.0/24", asn=64501)))
    assert [r.rdata for r in by_prefix.rows] == ["198.51.100.3"]
