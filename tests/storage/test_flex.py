"""Flex search over every store backend: FCRE and glob matching, grouping, fences, paging and the guards."""

from __future__ import annotations

import pytest

from tests.storage.conftest import StoreFactory
from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Observation
from yapdns.core.normalize import normalize_observation
from yapdns.storage.base import Store
from yapdns.storage.flex import FlexPattern, FlexQuery, FlexTimeoutError, glob_to_regex
from yapdns.storage.query import TimeFence, TypeFilter


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    s = store_factory()
    rows = [
        ("www.example.com", "A", "192.0.2.1", 10, 20, 1),
        ("www.example.com", "A", "192.0.2.2", 5, 30, 2),
        ("mail.example.com", "A", "192.0.2.1", 40, 50, 3),
        ("example.com", "MX", "10 mail.example.com", 1, 100, 4),
        ("example.com", "TXT", '"v=spf1 -all"', 1, 100, 5),
        ("example.com", "SPF", '"v=spf1 -all"', 1, 100, 6),
        ("example.net", "DS", "12345 13 2 " + "ab" * 32, 1, 100, 1),
    ] + [(f"n{i:04d}.example.org", "A", "198.51.100.1", 1000 + i, 2000 + i, 1) for i in range(3000)]
    s.write([normalize_observation(Observation(rrname=n, rrtype=t, rdata=(r,), time_first=a, time_last=b, count=c))
             for n, t, r, a, b, c in rows])
    return s


def _q(**kw: object) -> FlexQuery:
    return FlexQuery(**{"target": "rrnames", "method": "regex", "pattern": ".", **kw})  # type: ignore[arg-type]


def test_rrnames_group_per_name_and_type(store: Store) -> None:
    rows = list(store.iter_flex(_q(pattern=r"^www\.example\.com\.$")))
    assert [(r.rrname, r.rrtype, r.count, r.time_first, r.time_last) for r in rows] == [
        ("www.example.com", "A", 3, 5, 30)]


def test_rdata_groups_across_owners_and_separates_types(store: Store) -> None:
    ips = list(store.iter_flex(_q(target="rdata", pattern=r"^192\.0\.2\.1$")))
    assert [(r.rdata, r.count) for r in ips] == [("192.0.2.1", 4)]
    spf = list(store.iter_flex(_q(target="rdata", pattern="spf1")))
    assert [(r.rrtype, r.count) for r in spf] == [("SPF", 6), ("TXT", 5)]
    mx = list(store.iter_flex(_q(target="rdata", pattern=r"mail\.example\.com\.$")))  # DNSDB form: absolute
    assert [r.rdata for r in mx] == ["10 mail.example.com"]


def test_types_dnssec_exclude_and_fences(store: Store) -> None:
    assert {r.rrtype for r in store.iter_flex(_q(pattern="example", types=TypeFilter(dnssec=True)))} == {"DS"}
    assert "DS" not in {r.rrtype for r in store.iter_flex(_q(pattern="example", types=TypeFilter(dnssec=False)))}
    kept = list(store.iter_flex(_q(pattern=r"\.example\.com\.$", exclude="^www")))
    assert {r.rrname for r in kept} == {"mail.example.com"}
    fenced = list(store.iter_flex(_q(pattern=r"^n0", fence=TimeFence(first_before=1004))))
    assert [r.rrname for r in fenced] == [f"n{i:04d}.example.org" for i in range(5)]


def test_streams_across_chunks_with_offset_and_limit(store: Store) -> None:
    rows = list(store.iter_flex(_q(pattern=r"\.example\.org\.$", offset=1995, limit=10)))
    assert [r.rrname for r in rows] == [f"n{i:04d}.example.org" for i in range(1995, 2005)]
    assert len(list(store.iter_flex(_q(pattern=r"\.example\.org\.$", limit=5000)))) == 3000


def test_time_budget_ends_the_scan(store: Store) -> None:
    with pytest.raises(FlexTimeoutError):
        list(store.iter_flex(_q(pattern=r"\.example\.org\.$", time_budget=0.0)))


def test_glob_translation() -> None:
    assert glob_to_regex("*.example.com.") == r"^.*\.example\.com\.$"
    assert FlexPattern("glob", "mail?.ex[!b]mple.*").search("mail1.example.com.")
    assert not FlexPattern("glob", "mail?.ex[!a]mple.*").search("mail1.example.com.")
    assert not FlexPattern("glob", "*.example.com.").search("example.com.x")


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=x)", r"\d+", "x" * 2000, "a(b"])
def test_unsupported_or_bad_regex_is_refused(pattern: str) -> None:
    with pytest.raises(InvalidQuery):
        FlexPattern("regex", pattern)


def test_catastrophic_pattern_is_stopped() -> None:
    with pytest.raises(InvalidQuery, match="too expensive"):
        FlexPattern("regex", "(a|aa)+b").search("a" * 200 + "c")


def test_posix_classes_work() -> None:
    assert FlexPattern("regex", r"^[[:digit:]]+\.").search("1234.example.com.")
