"""Rdata in its canonical presentation form, and the keys derived from it.

Canonical forms (docs/architecture.md §1): IPv4 dotted quad; IPv6 RFC 5952; names
inside rdata normalized like owner names (no trailing dot); MX ``pref host``;
SRV ``prio weight port target``; TXT keeps its quoted strings; every other
type is dnspython's text form with names canonicalized and binary fields
(base64 keys, signatures and certificates; hex digests, association data
and salts) as one unbroken token, not dnspython's default space-separated
chunks; unknown types use RFC 3597 ``\\# len hex``, the hex unbroken too.
``normalize_rdata`` is idempotent, and every presentation derived from the
canonical form (``to_dnsdb_text``) keeps binary fields unbroken.
"""

from __future__ import annotations

import re
import socket
from functools import lru_cache

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from yapdns.core import rrtypes as t
from yapdns.core.errors import InvalidName, InvalidRdata
from yapdns.core.names import normalize_name

NAME_TYPES = frozenset({t.CNAME, t.NS, t.PTR, t.DNAME, 3, 4, 7, 8, 9})  # + MD MF MB MG MR
_V4_PREFIX = b"\x00" * 10 + b"\xff\xff"
_MAX_TEXT = 65535 * 4
# TXT as wire decoders print it: quoted strings of printable ASCII but '"' and '\\', one space apart, each at
# most 255 characters (a character-string's limit): dnspython prints exactly this back
UNBROKEN = 0  # dnspython's chunksize: 0 prints base64 and hex fields without the spaces it inserts by default
_PLAIN_TXT = re.compile(r'"[\x20\x21\x23-\x5b\x5d-\x7e]{0,255}"(?: "[\x20\x21\x23-\x5b\x5d-\x7e]{0,255}")*')


def _code(rrtype: int) -> dns.rdatatype.RdataType:
    return dns.rdatatype.RdataType.make(rrtype)


def normalize_rdata(rrtype: int, text: str) -> str:
    """Return the canonical rdata text for type code ``rrtype``; raise ``InvalidRdata``."""
    if not isinstance(text, str):
        raise InvalidRdata(f"rdata must be a string, not {type(text).__name__}")
    if rrtype == t.A:
        return _normalize_ipv4(text)
    if rrtype == t.AAAA:
        return _normalize_ipv6(text)
    if rrtype in NAME_TYPES:
        return _normalize_target(text)
    return _normalize_other(rrtype, text)


def _normalize_ipv4(text: str) -> str:
    try:
        return socket.inet_ntoa(socket.inet_pton(socket.AF_INET, text))
    except (OSError, ValueError):
        raise InvalidRdata(f"invalid IPv4 address {text[:60]!r}") from None


def _normalize_ipv6(text: str) -> str:
    try:
        return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, text))
    except (OSError, ValueError):
        raise InvalidRdata(f"invalid IPv6 address {text[:60]!r}") from None


def _normalize_target(text: str) -> str:
    try:
        return normalize_name(text)
    except InvalidName as exc:
        raise InvalidRdata(f"invalid target name: {exc}") from None


@lru_cache(maxsize=131072)
def _normalize_other(rrtype: int, text: str) -> str:
    if not text or len(text) > _MAX_TEXT:
        raise InvalidRdata("empty rdata" if not text else "rdata is too long")
    if rrtype == t.MX:
        pref, _, host = text.partition(" ")
        if pref.isascii() and pref.isdigit() and len(pref) <= 5 and int(pref) <= 65535 and host and " " not in host:
            return f"{int(pref)} {_normalize_target(host)}"
    if rrtype in (t.TXT, t.SPF):
        if not text.startswith('"'):
            text = _quote(text)
        elif _PLAIN_TXT.fullmatch(text):
            return text  # canonical already: what dnspython would print back (a property test checks it)
    return _via_dnspython(rrtype, text)


def _quote(text: str) -> str:
    """Quote a bare TXT string as one character-string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _via_dnspython(rrtype: int, text: str) -> str:
    try:
        rd = dns.rdata.from_text(dns.rdataclass.IN, _code(rrtype), text, origin=dns.name.root)
        rd = _canonical_names(rd)
        out = rd.to_text(origin=dns.name.root, relativize=True, chunksize=UNBROKEN)
    except (dns.exception.DNSException, ValueError, TypeError, UnicodeError) as exc:
        raise InvalidRdata(f"invalid {t.rrtype_text(rrtype)} rdata {text[:80]!r}: {exc}") from None
    return _root_tokens(out)


def _canonical_names(rd: dns.rdata.Rdata) -> dns.rdata.Rdata:
    changes = {
        slot: value.canonicalize()
        for slot in rd.__slots__
        if isinstance(value := getattr(rd, slot, None), dns.name.Name)
    }
    return rd.replace(**changes) if changes else rd


def _root_tokens(text: str) -> str:
    """dnspython prints the root name as ``@`` when relativizing; we print ``.``."""
    if "@" not in text:
        return text
    tokens, quoted, start = [], False, 0
    for i, ch in enumerate(text):
        if ch == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif ch == " " and not quoted:
            tokens.append(text[start:i])
            start = i + 1
    tokens.append(text[start:])
    return " ".join("." if tok == "@" else tok for tok in tokens)


def ip_key(rrtype: int, rdata: str) -> bytes | None:
    """The 16-byte big-endian address of A/AAAA rdata (IPv4 as ``::ffff:a.b.c.d``)."""
    if rrtype == t.A:
        return _V4_PREFIX + socket.inet_aton(rdata)
    if rrtype == t.AAAA:
        return socket.inet_pton(socket.AF_INET6, rdata)
    return None


def ip_from_key(key: bytes) -> str:
    """Invert ``ip_key``: IPv4-mapped keys print as dotted quads."""
    if key[:12] == _V4_PREFIX:
        return socket.inet_ntoa(key[12:])
    return socket.inet_ntop(socket.AF_INET6, key)


def target_name(rrtype: int, rdata: str) -> str | None:
    """The domain name carried by canonical rdata (CNAME/NS/PTR/DNAME target, MX host, SRV target)."""
    if rrtype in NAME_TYPES:
        return rdata
    if rrtype == t.MX:
        return rdata.partition(" ")[2] or None
    if rrtype == t.SRV:
        parts = rdata.split(" ")
        return parts[3] if len(parts) == 4 else None
    return None


def to_dnsdb_text(rrtype: int, rdata: str) -> str:
    """Canonical rdata in master-file form with absolute names (trailing dots), as DNSDB prints it."""
    if rrtype in t.IP_TYPES:
        return rdata
    if rrtype in NAME_TYPES:
        return rdata if rdata == "." else rdata + "."
    if rrtype == t.MX:
        pref, _, host = rdata.partition(" ")
        return f"{pref} {host if host == '.' else host + '.'}"
    return _absolute_text(rrtype, rdata)


@lru_cache(maxsize=65536)
def _absolute_text(rrtype: int, rdata: str) -> str:
    try:
        rd = _absolute(rrtype, rdata)
    except dns.exception.DNSException:
        return rdata
    return rd.to_text(relativize=False, chunksize=UNBROKEN)


def to_wire_hex(rrtype: int, rdata: str) -> str:
    """The uncompressed wire form of canonical rdata, as upper-case hex."""
    wire = _absolute(rrtype, rdata).to_wire()
    assert wire is not None
    return wire.hex().upper()


def _absolute(rrtype: int, rdata: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text(
        dns.rdataclass.IN, _code(rrtype), rdata, origin=dns.name.root, relativize=False
    )


def from_wire_hex(rrtype: int, hexdata: str) -> str:
    """Parse wire-format hex rdata into canonical text; raise ``InvalidRdata``."""
    try:
        wire = bytes.fromhex(hexdata)
        rd = dns.rdata.from_wire(dns.rdataclass.IN, _code(rrtype), wire, 0, len(wire))
    except (ValueError, dns.exception.DNSException) as exc:
        raise InvalidRdata(f"invalid wire rdata: {exc}") from None
    return normalize_rdata(rrtype, rd.to_text(origin=dns.name.root, relativize=True))
