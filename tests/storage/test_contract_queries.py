"""The ``Store`` contract, part 2: every query shape, filter, fence and page, on every backend.

One small corpus is written per test; each expectation lists the rows a
correct backend must return, in the documented order. The neighbours of
every match (``example-x.com``, ``exampleb.com``, ``www.examples.com``,
``192.0.3.7``, ``2001:db8:2::1``) are there so that a wrong range, a wrong
collation (PostgreSQL must compare bytes, not locale order) or a missing
filter fails a test.
"""

from __future__ import annotations

import pytest

from tests.storage.builders import T0, by_ip, by_name, by_target, fence, obs, types
from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Observation
from yapdns.storage.base import Store
from yapdns.storage.query import Page, RecordQuery

DNSKEY = "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
CORPUS: list[Observation] = [
    obs("example.com", "A", "192.0.2.1", first=T0, last=T0 + 100),
    obs("example.com", "NS", "ns1.example.net", first=T0 + 10, last=T0 + 20),
    obs("example.com", "TXT", '"v=spf1 -all"', first=T0 + 20, last=T0 + 30),
    obs("example.com", "DNSKEY", DNSKEY, first=T0 + 30, last=T0 + 40),
    obs("www.example.com", "A", "192.0.2.2", first=T0 + 40, last=T0 + 50),
    obs("www.example.com", "AAAA", "2001:db8:1::2", first=T0 + 50, last=T0 + 60),
    obs("a.b.example.com", "CNAME", "www.example.com", first=T0 + 60, last=T0 + 70),
    obs("mail.example.com", "MX", "10 mx.example.net", first=T0 + 70, last=T0 + 80),
    obs("a\\032b.example.com", "A", "192.0.2.9", first=T0 + 80, last=T0 + 90),
    obs("example-x.com", "A", "192.0.2.3"),
    obs("exampleb.com", "A", "192.0.2.4"),
    obs("example.community", "A", "192.0.2.5"),
    obs("www.examples.com", "A", "192.0.2.6"),
    obs("www.example.org", "A", "192.0.3.7"),
    obs("v6.example.net", "AAAA", "2001:db8:1:ff::1"),
    obs("v6.example.net", "AAAA", "2001:db8:2::1"),
]


@pytest.fixture
def corpus(store: Store) -> Store:
    store.write(CORPUS)
    return store


def keys(page: Page[object]) -> list[tuple[str, str, str]]:
    return [(r.rrname, r.rrtype, r.rdata) for r in page.rows]  # type: ignore[attr-defined]


def test_exact_name(corpus: Store) -> None:
    assert keys(corpus.records(by_name("WWW.example.com."))) == [
        ("www.example.com", "A", "192.0.2.2"),
        ("www.example.com", "AAAA", "2001:db8:1::2"),
    ]


def test_left_wildcard_is_strict_subdomains_in_reversed_name_order(corpus: Store) -> None:
    assert keys(corpus.records(by_name("*.example.com"))) == [
        ("a\\032b.example.com", "A", "192.0.2.9"),
        ("a.b.example.com", "CNAME", "www.example.com"),
        ("mail.example.com", "MX", "10 mx.example.net"),
        ("www.example.com", "A", "192.0.2.2"),
        ("www.example.com", "AAAA", "2001:db8:1::2"),
    ]


def test_right_wildcard_is_a_label_prefix(corpus: Store) -> None:
    assert keys(corpus.records(by_name("www.example.*"))) == [
        ("www.example.com", "A", "192.0.2.2"),
        ("www.example.com", "AAAA", "2001:db8:1::2"),
        ("www.example.org", "A", "192.0.3.7"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.2", ["www.example.com"]),
        ("192.0.2.0/24", ["example.com", "www.example.com", "example-x.com", "exampleb.com", "example.community",
                          "www.examples.com", "a\\032b.example.com"]),
        ("192.0.2.0,24", ["example.com", "www.example.com", "example-x.com", "exampleb.com", "example.community",
                          "www.examples.com", "a\\032b.example.com"]),
        ("192.0.2.2-192.0.2.3", ["www.example.com", "example-x.com"]),
        ("192.0.0.0/16", ["example.com", "www.example.com", "example-x.com", "exampleb.com", "example.community",
                          "www.examples.com", "a\\032b.example.com", "www.example.org"]),
        ("2001:db8:1::/48", ["www.example.com", "v6.example.net"]),
        ("2001:db8:1:ff::1", ["v6.example.net"]),
        ("198.51.100.0/24", []),
    ],
)
def test_ip_and_cidr_in_address_order(corpus: Store, text: str, expected: list[str]) -> None:
    assert [r.rrname for r in corpus.records(by_ip(text)).rows] == expected


def test_name_in_rdata(corpus: Store) -> None:
    assert keys(corpus.records(by_target("www.example.com"))) == [("a.b.example.com", "CNAME", "www.example.com")]
    assert keys(corpus.records(by_target("*.example.net"))) == [
        ("mail.example.com", "MX", "10 mx.example.net"),
        ("example.com", "NS", "ns1.example.net"),
    ]
    assert keys(corpus.records(by_target("ns1.example.*"))) == [("example.com", "NS", "ns1.example.net")]
    assert corpus.records(by_target("example.net")).rows == []


def test_exact_rdata(corpus: Store) -> None:
    txt = corpus.records(RecordQuery(rdata='"v=spf1 -all"')).rows
    assert [(r.rrname, r.rrtype) for r in txt] == [("example.com", "TXT")]
    ip = corpus.records(RecordQuery(rdata="192.0.2.4", types=types("A"))).rows
    assert [r.rrname for r in ip] == ["exampleb.com"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ["A", "NS", "TXT", "DNSKEY"]),
        ("ANY", ["A", "NS", "TXT"]),
        ("ANY-DNSSEC", ["DNSKEY"]),
        ("NS,TXT", ["NS", "TXT"]),
        ("TYPE48", ["DNSKEY"]),
        ("AAAA", []),
    ],
)
def test_type_filters(corpus: Store, text: str | None, expected: list[str]) -> None:
    assert [r.rrtype for r in corpus.records(by_name("example.com", types=types(text or ""))).rows] == expected


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"first_after": T0 + 60}, ["a\\032b.example.com", "a.b.example.com", "mail.example.com"]),
        ({"first_before": T0 + 40}, ["www.example.com"]),
        ({"last_before": T0 + 70}, ["a.b.example.com", "www.example.com", "www.example.com"]),
        ({"last_after": T0 + 80}, ["a\\032b.example.com", "mail.example.com"]),
        ({"first_after": T0 + 50, "last_before": T0 + 80}, ["a.b.example.com", "mail.example.com", "www.example.com"]),
    ],
)
def test_the_four_fences_are_inclusive(corpus: Store, bounds: dict[str, int], expected: list[str]) -> None:
    assert [r.rrname for r in corpus.records(by_name("*.example.com", fence=fence(**bounds))).rows] == expected


def _walk(store: Store, query: RecordQuery) -> tuple[list[tuple[str, str, str]], list[bool]]:
    rows: list[tuple[str, str, str]] = []
    flags: list[bool] = []
    cursor = None
    for _ in range(50):
        page = store.records(RecordQuery(**{**_fields(query), "cursor": cursor}))
        rows += keys(page)
        flags.append(page.limited)
        cursor = page.next_cursor
        if cursor is None:
            return rows, flags
    raise AssertionError("paging did not end")


def _fields(query: RecordQuery) -> dict[str, object]:
    return {f: getattr(query, f) for f in query.__struct_fields__}


PAGED = [obs(f"h{i:02d}.page.example", "A", f"198.51.100.{i}", sensor="s9/x") for i in range(25)] + [
    obs(f"c{i:02d}.page.example", "CNAME", "target.page.example", sensor="s9") for i in range(25)
] + [obs(f"pfx.p{i:02d}.example", t, rd) for i in range(8) for t, rd in (("A", "192.0.2.8"), ("AAAA", "2001:db8::8"))]


@pytest.mark.parametrize(
    "query",
    [
        by_name("*.page.example", limit=7),
        by_name("*.page.example", limit=7, sensor="s9"),
        by_name("pfx.*", limit=5),
        by_ip("198.51.100.0/24", limit=7),
        by_target("target.page.example", limit=7),
        by_target("*.page.example", limit=6, sensor="s9"),
    ],
    ids=["suffix", "suffix+sensor", "prefix", "cidr", "target", "target-suffix+sensor"],
)
def test_cursor_pages_have_no_gap_and_no_duplicate(store: Store, query: RecordQuery) -> None:
    store.write(PAGED)
    everything = keys(store.records(RecordQuery(**{**_fields(query), "limit": 1000})))
    walked, flags = _walk(store, query)
    assert walked == everything
    assert len(set(walked)) == len(walked)
    assert flags == [True] * (len(flags) - 1) + [False]
    assert len(flags) == max(1, -(-len(everything) // query.limit))


def test_paging_covers_every_row_of_each_shape(store: Store) -> None:
    store.write(PAGED)
    assert len(keys(store.records(by_name("*.page.example", limit=1000)))) == 50
    assert len(keys(store.records(by_ip("198.51.100.0/24", limit=1000)))) == 25
    assert len(keys(store.records(by_target("target.page.example", limit=1000)))) == 25
    assert len(keys(store.records(by_name("*.page.example", sensor="s9", limit=1000)))) == 50


def test_offset_and_limited(store: Store) -> None:
    store.write(PAGED)
    full = keys(store.records(by_ip("198.51.100.0/24", limit=100)))
    page = store.records(by_ip("198.51.100.0/24", limit=5, offset=3))
    assert keys(page) == full[3:8] and page.limited
    last = store.records(by_ip("198.51.100.0/24", limit=5, offset=20))
    assert keys(last) == full[20:] and not last.limited and last.next_cursor is None


def test_a_cursor_of_another_shape_is_refused(store: Store) -> None:
    store.write(PAGED)
    cursor = store.records(by_ip("198.51.100.0/24", limit=2)).next_cursor
    with pytest.raises(InvalidQuery):
        store.records(by_name("*.page.example", cursor=cursor))


def test_iter_records_streams_many_pages(store: Store) -> None:
    batch = [obs(f"n{i:04d}.many.example", "A", f"203.0.{i // 256}.{i % 256}") for i in range(2500)]
    store.write(batch)
    streamed = list(store.iter_records(by_name("*.many.example", limit=10_000)))
    assert len(streamed) == 2500
    assert [r.rrname for r in streamed] == sorted(r.rrname for r in streamed)
    assert len(list(store.iter_records(by_ip("203.0.0.0/16", limit=1234)))) == 1234


def test_rrset_and_negative_paging(store: Store) -> None:
    store.write(
        [obs(f"n{i:02d}.rp.example", "A", "192.0.2.1", "192.0.2.2") for i in range(9)]
        + [obs(f"n{i:02d}.rp.example", "A", rcode="NXDOMAIN") for i in range(9)]
    )
    first = store.rrsets(by_name("*.rp.example", limit=4))
    rest = store.rrsets(by_name("*.rp.example", limit=100, cursor=first.next_cursor))
    assert [r.rrname for r in first.rows + rest.rows] == [f"n{i:02d}.rp.example" for i in range(9)]
    neg_first = store.negatives(by_name("*.rp.example", limit=5))
    neg_rest = store.negatives(by_name("*.rp.example", limit=5, cursor=neg_first.next_cursor))
    assert [n.rrname for n in neg_first.rows + neg_rest.rows] == [f"n{i:02d}.rp.example" for i in range(9)]
    assert neg_first.limited and not neg_rest.limited
