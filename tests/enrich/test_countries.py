"""The built-in countries answer as the npm package's own text CSV says, read here independently.

The package's dotted-quad and RFC 5952 files (which the dataset never reads) are parsed with ``socket``;
for a sampled address the expected country is that of the latest-starting range holding it (the inner one of
nested ranges: a geofeed inside a registry block), found by a backward scan bounded by the running maximum end.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import ipaddress
import random
import socket
from itertools import accumulate
from pathlib import Path

import pytest

from yapdns.enrich.countries import CountryDataset

PACKAGE = Path(__file__).resolve().parents[2] / "asdata" / "node_modules" / "@ip-location-db" / "geo-whois-asn-country"


def _int(text: str) -> int:
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    return int.from_bytes(socket.inet_pton(family, text), "big")


def _expected(starts: list[int], ends: list[int], reach: list[int], codes: list[str], n: int) -> str | None:
    j = bisect.bisect_right(starts, n) - 1
    while j >= 0 and reach[j] >= n:
        if ends[j] >= n:
            return codes[j]
        j -= 1
    return None


@pytest.mark.parametrize("name", ["geo-whois-asn-country-ipv4.csv", "geo-whois-asn-country-ipv6.csv"])
def test_answers_equal_the_packages_text_files(countries: CountryDataset, name: str) -> None:
    with (PACKAGE / name).open(newline="", encoding="utf-8") as fh:
        rows = [(_int(a), _int(b), cc) for a, b, cc in csv.reader(fh)]
    starts, ends, codes = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    reach = list(accumulate(ends, max))
    rng = random.Random(19)
    version = 4 if "ipv4" in name else 6
    for lo, hi, _ in rng.sample(rows, 2500):
        n = rng.randint(lo, hi)
        ip = str(ipaddress.ip_address(n) if version == 4 else ipaddress.IPv6Address(n))
        row = countries.lookup(ip)
        expected = _expected(starts, ends, reach, codes, n)
        assert expected is not None and (row.country if row else None) == expected, ip


def test_known_addresses_date_and_licence(countries: CountryDataset) -> None:
    assert [(r.country if (r := countries.lookup(ip)) else None) for ip in
            ("1.1.1.1", "8.8.8.8", "193.0.6.139", "2001:67c:2e8::1", "10.1.2.3", "::1", "bad")] == \
        ["AU", "US", "NL", "NL", None, None, None]
    info = countries.info()
    assert dt.datetime.fromtimestamp(info.data_date, dt.UTC) == dt.datetime(2026, 6, 17, 19, tzinfo=dt.UTC)
    assert info.identity == "ip-location-db country@2026-06-17" and info.fields == ("country",)
    assert "CC0-1.0" in info.licence and "nro.net" in info.licence
    assert len(countries) > 500_000 and countries.nested > 5000  # geofeeds inside registry blocks
