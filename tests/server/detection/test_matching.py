"""WatchlistMatcher: names with wildcards, addresses and CIDRs, regexes, NOD suffixes."""

from __future__ import annotations

from yapdns.core.model import Observation
from yapdns.server.detection.matching import EntryRule, WatchlistMatcher


def obs(rrname: str, rrtype: str, *rdata: str) -> Observation:
    return Observation(rrname=rrname, rrtype=rrtype, rdata=rdata, time_first=10, time_last=20, count=2, sensor_id="s1")


MATCHER = WatchlistMatcher(
    [
        EntryRule(1, "name", "evil.example"),
        EntryRule(2, "name", "*.evil.example"),
        EntryRule(3, "name", "www.shop.*"),
        EntryRule(4, "ip", "192.0.2.0/24"),
        EntryRule(5, "ip", "198.51.100.7/32"),
        EntryRule(6, "ip", "2001:db8::/32"),
        EntryRule(7, "regex", r"^[a-z0-9]{16}\.dga\.example$"),
        EntryRule(8, "nod", "example.org"),
    ]
)


def entries(*observations: Observation) -> list[tuple[int, str, str]]:
    return [(h.entry_id, h.rrname, h.rdata) for h in MATCHER.match(observations)]


def test_names_match_exactly_and_by_wildcard() -> None:
    assert entries(obs("evil.example", "A", "203.0.113.1")) == [(1, "evil.example", "203.0.113.1")]
    assert entries(obs("a.b.evil.example", "TXT", '"x"')) == [(2, "a.b.evil.example", '"x"')]
    assert entries(obs("www.shop.example", "CNAME", "cdn.example")) == [(3, "www.shop.example", "cdn.example")]
    assert entries(obs("www.shop", "A", "203.0.113.1"), obs("notevil.example", "A", "203.0.113.1")) == []


def test_addresses_match_their_networks_in_a_and_aaaa_only() -> None:
    found = entries(obs("x.example", "A", "192.0.2.44", "198.51.100.7", "198.51.100.8"))
    assert found == [(4, "x.example", "192.0.2.44"), (5, "x.example", "198.51.100.7")]
    assert entries(obs("v6.example", "AAAA", "2001:db8:1::5")) == [(6, "v6.example", "2001:db8:1::5")]
    assert entries(obs("txt.example", "TXT", '"192.0.2.44"')) == []


def test_regex_and_one_hit_per_entry_and_rdata() -> None:
    found = entries(obs("abcdefgh12345678.dga.example", "A", "192.0.2.1", "203.0.113.9"))
    assert found == [(7, "abcdefgh12345678.dga.example", "192.0.2.1"), (4, "abcdefgh12345678.dga.example", "192.0.2.1"),
                     (7, "abcdefgh12345678.dga.example", "203.0.113.9")]


def test_nod_entries_match_new_names_under_their_suffix() -> None:
    assert MATCHER.nod_entries("new.example.org") == [8] and MATCHER.nod_entries("example.org") == [8]
    assert MATCHER.nod_entries("example.com") == []
    assert entries(obs("new.example.org", "A", "203.0.113.1")) == []  # not an observation rule


def test_ten_thousand_host_entries_cost_one_probe_per_address() -> None:
    big = WatchlistMatcher(EntryRule(i, "ip", f"10.{i // 256}.{i % 256}.1/32") for i in range(10_000))
    assert big.prefix_lengths == [(4, 32)]
    assert [h.entry_id for h in big.match([obs("a.example", "A", "10.3.7.1")])] == [3 * 256 + 7]
