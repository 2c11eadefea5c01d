"""RR type codes and mnemonics.

Storage keeps the 16-bit code; every API prints the mnemonic, or ``TYPEn``
(RFC 3597) for a type dnspython cannot name.
"""

from __future__ import annotations

import re
from functools import lru_cache

import dns.rdatatype

from yapdns.core.errors import InvalidRRType

A = 1
NS = 2
CNAME = 5
SOA = 6
PTR = 12
MX = 15
TXT = 16
AAAA = 28
SRV = 33
DNAME = 39
SPF = 99

_NUMBER = re.compile(r"[0-9]{1,5}")  # ASCII digits only: str.isdigit() also takes "²" and "٣"
UNRECORDED = "TYPE0"  # reserved type 0, never on the wire: "the source recorded no query type"

IP_TYPES = frozenset({A, AAAA})
DNSSEC_TYPES = frozenset(
    dns.rdatatype.from_text(t)
    for t in ("DS", "RRSIG", "NSEC", "DNSKEY", "NSEC3", "NSEC3PARAM", "DLV", "CDS", "CDNSKEY", "TA")
)


@lru_cache(maxsize=4096)
def rrtype_code(value: str | int) -> int:
    """The numeric code of a mnemonic, ``TYPEn`` or number; raise ``InvalidRRType``."""
    if isinstance(value, bool):
        raise InvalidRRType(f"invalid rrtype {value!r}")
    if isinstance(value, int):
        if 0 <= value <= 65535:
            return value
        raise InvalidRRType(f"rrtype {value} is out of range 0..65535")
    if not isinstance(value, str):
        raise InvalidRRType(f"rrtype must be a string or number, not {type(value).__name__}")
    text = value.strip()
    if not text.isascii():  # "\u017foa".upper() is "SOA": only ASCII can spell a type
        raise InvalidRRType(f"unknown rrtype {value[:40]!r}: only ASCII letters and digits spell a type")
    text = text.upper()
    if _NUMBER.fullmatch(text):
        return rrtype_code(int(text))
    try:
        return int(dns.rdatatype.from_text(text))
    except (dns.rdatatype.UnknownRdatatype, ValueError) as exc:
        raise InvalidRRType(f"unknown rrtype {value[:40]!r}") from exc


@lru_cache(maxsize=4096)
def rrtype_text(code: int) -> str:
    """The mnemonic of a type code, or ``TYPEn``."""
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(code))


def normalize_rrtype(value: str | int) -> str:
    """The canonical mnemonic of ``value``."""
    return rrtype_text(rrtype_code(value))


def has_mnemonic(code: int) -> bool:
    """Whether dnspython knows a mnemonic for ``code`` (CIRCL prints the others as numbers)."""
    return not rrtype_text(code).startswith("TYPE")
