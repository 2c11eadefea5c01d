"""The observations every compat test loads: one place, read by the tests' expectations too.

They go in through the real ingest API (our own wire format), so the server
answers from data that took the same path as production data. Times are
fixed epochs; names cover wildcards, IDN, bailiwicks, CIDR v4/v6, paging and
the TXT, MX, SRV, SOA, NS and PTR rdata forms. Under ``zones.example``: a
record seen only in zone files, one seen in traffic and in zone files, and a
DNSKEY sent in dnspython's chunked form (stored and shown unbroken).
"""

from __future__ import annotations

from yapdns.core.model import Observation

T0 = 1_500_000_000
T1 = 1_600_000_000
T2 = 1_700_000_000
BULK = 60  # bulkNN.example.com. A 203.0.113.10, for paging and limits
IDN_ULABEL = "bücher.example"
IDN_ALABEL = "xn--bcher-kva.example"
ZONE_ONLY = "zone.zones.example"  # A 198.18.0.50, seen only in zone files
MIXED = "both.zones.example"  # A 198.18.0.60, seen in traffic (T1 .. T1 + 1000) and in zone files
ZONE = (1_450_000_000, 1_650_000_000)  # the zone-file window of both
DNSKEY = "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
DNSKEY_CHUNKED = "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0d xCjjnopKl+GqJxpVXckHAeF+KkxLbxIL fDLUT0rAK9iUzy1L53eKGQ=="


def _obs(rrname: str, rrtype: str, rdata: tuple[str, ...], first: int, last: int, count: int = 1,
         bailiwick: str | None = None, zone: tuple[int, int] | None = None, zone_only: bool = False) -> Observation:
    return Observation(rrname=rrname, rrtype=rrtype, rdata=rdata, time_first=first, time_last=last, count=count,
                       bailiwick=bailiwick, zone_time_first=zone[0] if zone else None,
                       zone_time_last=zone[1] if zone else None, zone_only=zone_only)


def observations() -> list[Observation]:
    out = [
        _obs("www.example.com", "A", ("192.0.2.1",), T0, T1, 100, "example.com"),
        _obs("www.example.com", "A", ("192.0.2.2", "192.0.2.3"), T1 + 100, T2, 50, "example.com"),
        _obs("www.example.com", "AAAA", ("2001:db8::1",), T1, T2, 30, "example.com"),
        _obs("www.example.net", "A", ("192.0.2.1",), 1_550_000_000, 1_650_000_000, 15, "example.net"),
        _obs("alias.example.com", "CNAME", ("www.example.com",), T0, 1_650_000_000, 25, "example.com"),
        _obs("example.com", "NS", ("ns1.example.com", "ns2.example.net"), T0, T2, 500, "com"),
        _obs("example.com", "MX", ("10 mail.example.com",), 1_450_000_000, 1_690_000_000, 80, "example.com"),
        _obs("example.com", "TXT", ('"v=spf1 include:_spf.example.net -all"',), T0, T2, 40, "example.com"),
        _obs("example.com", "TXT", ('"first part " "second part"',), T1, T2, 4, "example.com"),
        _obs("example.com", "SOA", ("ns1.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300",),
             T0, T2, 60, "example.com"),
        _obs("_sip._tcp.example.com", "SRV", ("10 60 5060 sip.example.com",), T1, T2, 7, "example.com"),
        _obs("1.2.0.192.in-addr.arpa", "PTR", ("mail.example.com",), T0, 1_650_000_000, 11, "2.0.192.in-addr.arpa"),
        _obs("mail.example.com", "A", ("192.0.2.25",), T0, T2, 90, "example.com"),
        _obs("v6.example.org", "AAAA", ("2001:db8:1::53",), T1, T2, 3, "example.org"),
        _obs("far.example.org", "AAAA", ("2001:dc8::1",), T1, T2, 2, "example.org"),
        _obs("old.example.org", "A", ("198.51.100.7",), 1_262_304_000, 1_293_753_600, 9, "example.org"),
        _obs(IDN_ALABEL, "A", ("192.0.2.80",), T1, T2, 5, "example"),
        _obs("www.example.com", "A", ("192.0.2.1",), T0, T1, 2, "com"),  # same RRset, parent bailiwick
        _obs("odd.example.org", "TYPE65534", ("\\# 4 0a0b0c0d",), T1, T2, 1, "example.org"),
        _obs(ZONE_ONLY, "A", ("198.18.0.50",), *ZONE, 1, "zones.example", zone=ZONE, zone_only=True),
        _obs(MIXED, "A", ("198.18.0.60",), T1, T1 + 1000, 3, "zones.example", zone=ZONE),
        _obs("zones.example", "DNSKEY", (DNSKEY_CHUNKED,), T1, T2, 2, "example"),
    ]
    out += [
        _obs(f"bulk{i:02d}.example.com", "A", ("203.0.113.10",), T1 + i, T2 - i, 1, "example.com")
        for i in range(BULK)
    ]
    return out
