"""parsers._addr: the one reader of address literals; its canonical form is the normalizer's."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yapdns.agent.parsers._addr import canonical_ip, ip_address, ip_rrtype
from yapdns.core import rrtypes
from yapdns.core.rdata import normalize_rdata


@given(st.ip_addresses())
def test_every_address_is_typed_by_family_and_canonical_as_the_normalizer_keeps_it(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    rrtype = "A" if address.version == 4 else "AAAA"
    for text in {str(address), address.exploded, str(address).upper()}:
        assert ip_rrtype(text) == rrtype
        found = ip_address(text)
        assert found is not None and found[0] == rrtype
        assert found[1] == normalize_rdata(rrtypes.rrtype_code(rrtype), text)
        assert canonical_ip(text, rrtype) == found[1]
        assert canonical_ip(text, "AAAA" if rrtype == "A" else "A") is None


@pytest.mark.parametrize(
    "text", ["", "www.example.com", "1.2.3", "01.2.3.4", "1.2.3.4.", "256.1.1.1", "fe80::1%eth0", "::g", "1.2.3.4 "]
)
def test_anything_else_is_no_address(text: str) -> None:
    assert ip_rrtype(text) is None and ip_address(text) is None and canonical_ip(text, "A") is None
