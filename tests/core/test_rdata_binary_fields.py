"""Binary rdata fields are one unbroken token, in the canonical form and in every presentation of it.

dnspython prints base64 (keys, signatures, certificates) and hex (digests,
association data, salts, RFC 3597 data) in chunks separated by spaces unless
asked not to. Other pDNS services print them unbroken, so a client comparing
rdata strings would see two records. Checked with hypothesis for every type
whose dnspython text form chunks:

1. the chunked text (what dnspython prints by default, and what stores written
   before this rule hold) and the unbroken text normalize to the same key;
2. that key has no space inside the binary field (its token count is the
   type's field count) and normalizing it again changes nothing;
3. the key parses back with dnspython to the same rdata, so nothing is lost;
4. DNSDB's presentation (absolute names) keeps the field unbroken too.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from hypothesis import given
from hypothesis import strategies as st

from yapdns.core.rdata import normalize_rdata, to_dnsdb_text
from yapdns.core.rrtypes import rrtype_code

Maker = Callable[[bytes], str]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# type -> (text with the binary field unbroken, for any bytes; number of space-separated tokens)
BINARY_TYPES: dict[str, tuple[Maker, int]] = {
    "DNSKEY": (lambda b: f"257 3 13 {_b64(b)}", 4),
    "CDNSKEY": (lambda b: f"257 3 8 {_b64(b)}", 4),
    "KEY": (lambda b: f"256 3 5 {_b64(b)}", 4),
    "RRSIG": (lambda b: f"A 13 2 300 20240101000000 20230101000000 4711 example.com. {_b64(b)}", 9),
    "SIG": (lambda b: f"A 13 2 300 20240101000000 20230101000000 4711 example.com. {_b64(b)}", 9),
    "DS": (lambda b: f"4711 13 99 {b.hex()}", 4),  # an unassigned digest type takes any length
    "CDS": (lambda b: f"4711 13 99 {b.hex()}", 4),
    "DLV": (lambda b: f"4711 13 99 {b.hex()}", 4),
    "TLSA": (lambda b: f"3 0 0 {b.hex()}", 4),
    "SMIMEA": (lambda b: f"3 0 0 {b.hex()}", 4),
    "SSHFP": (lambda b: f"4 9 {b.hex()}", 3),
    "OPENPGPKEY": (_b64, 1),
    "CERT": (lambda b: f"PGP 0 0 {_b64(b)}", 4),
    "IPSECKEY": (lambda b: f"10 1 2 192.0.2.38 {_b64(b)}", 5),
    "DHCID": (_b64, 1),
    "ZONEMD": (lambda b: f"2018031500 1 240 {b.hex()}", 4),
    "NSEC3PARAM": (lambda b: f"1 0 10 {b[:255].hex()}", 4),
    "HIP": (lambda b: f"2 200100107b1a74df365639cc39f1d578 {_b64(b)} rvs.example.com.", 4),
    "TYPE65534": (lambda b: f"\\# {len(b)} {b.hex()}", 3),
}


def _parse(rrtype: str, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rrtype), text, origin=dns.name.root)


@given(st.sampled_from(sorted(BINARY_TYPES)), st.binary(min_size=12, max_size=700))
def test_binary_fields_are_one_unbroken_token(rrtype: str, data: bytes) -> None:
    make, tokens = BINARY_TYPES[rrtype]
    rd = _parse(rrtype, make(data))
    chunked = rd.to_text()  # dnspython's default: base64 in 32-character chunks, long hex in 128
    code = rrtype_code(rrtype)
    key = normalize_rdata(code, chunked)
    assert key == normalize_rdata(code, make(data))
    assert len(key.split(" ")) == tokens, key
    assert normalize_rdata(code, key) == key
    assert _parse(rrtype, key) == rd
    assert len(to_dnsdb_text(code, key).split(" ")) == tokens


def test_the_dnskey_of_the_report_comes_back_unbroken() -> None:
    key = "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
    spaced = "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0d xCjjnopKl+GqJxpVXckHAeF+KkxLbxIL fDLUT0rAK9iUzy1L53eKGQ=="
    assert normalize_rdata(rrtype_code("DNSKEY"), spaced) == f"257 3 13 {key}"
    assert normalize_rdata(rrtype_code("DNSKEY"), f"257 3 13 {key}") == f"257 3 13 {key}"


def test_fields_with_a_fixed_shape_keep_it() -> None:
    """EUI-48/64 keep their dashes and NSEC3 its base32 next-owner hash: only binary blobs lose their chunks."""
    assert normalize_rdata(rrtype_code("EUI48"), "01-23-45-67-89-AB") == "01-23-45-67-89-ab"
    nsec3 = "1 0 10 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG"
    assert normalize_rdata(rrtype_code("NSEC3"), "1 0 10 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG") == nsec3
