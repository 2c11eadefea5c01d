"""Reading a DNSDB v2 path (already split, then decoded) into one ``DnsdbCall``.

Paths (relative to ``/dnsdb/v2/``)::

    {lookup|summarize}/rrset/name/OWNER[/RRTYPE[/BAILIWICK]]
    {lookup|summarize}/rrset/raw/HEX[/RRTYPE]
    {lookup|summarize}/rdata/{name|ip|raw}/VALUE[/RRTYPE]
    {regex|glob}/{rrnames|rdata}/VALUE[/RRTYPE]

An unrecognized or missing top-level component raises ``UnknownPath``
(404); a malformed lower-level component raises ``InvalidQuery`` (400).
Names become the store's ``NameMatch`` (wildcards, IDN → A-labels, case and
trailing dot ignored); rdata/ip values an ``IpRange``; raw hex the
canonical rdata texts it can denote.
"""

from __future__ import annotations

from typing import Any, Literal

import dns.exception
import dns.name
import msgspec

from yapdns.core import rrtypes
from yapdns.core.errors import InvalidQuery, InvalidRdata
from yapdns.core.rdata import from_wire_hex
from yapdns.storage.query import IpRange, NameMatch, TypeFilter

Verb = Literal["lookup", "summarize", "flex"]
Kind = Literal["rrset", "rdata_name", "rdata_ip", "rdata_raw", "rrnames", "rdata"]

# Types a raw rdata value is tried as when no rrtype is given.
RAW_CANDIDATES = ("A", "AAAA", "NS", "CNAME", "PTR", "DNAME", "MX", "TXT", "SPF", "SRV", "SOA", "CAA", "NAPTR",
                  "SSHFP", "TLSA", "DS", "DNSKEY", "HTTPS", "SVCB")


class UnknownPath(Exception):
    """Unrecognized or missing top-level components."""


class DnsdbCall(msgspec.Struct, frozen=True, kw_only=True):
    """What one DNSDB request asks for."""

    verb: Verb
    kind: Kind
    types: TypeFilter = TypeFilter()
    name: NameMatch | None = None
    bailiwick: str | None = None
    ip: IpRange | None = None
    raw: tuple[tuple[int, str], ...] = ()  # (type code, canonical rdata) candidates
    method: Literal["regex", "glob"] = "regex"
    pattern: str = ""


def parse(parts: list[str]) -> DnsdbCall:
    """The call a path denotes."""
    if len(parts) < 3:
        raise UnknownPath()
    head, what, *rest = parts
    if head in ("lookup", "summarize"):
        return _lookup(head, what, rest)  # type: ignore[arg-type]
    if head in ("regex", "glob") and what in ("rrnames", "rdata"):
        value, rrtype = _value_and(rest, 1)
        return DnsdbCall(verb="flex", kind=what, method=head, pattern=value, types=_types(rrtype))  # type: ignore[arg-type]
    raise UnknownPath()


def _lookup(verb: Verb, what: str, rest: list[str]) -> DnsdbCall:
    sub = rest[0] if rest else ""
    if what == "rrset" and sub == "name":
        value, rrtype, bw = _value_and(rest[1:], 2)
        return DnsdbCall(verb=verb, kind="rrset", name=_name(value), types=_types(rrtype), bailiwick=_bailiwick(bw))
    if what == "rrset" and sub == "raw":
        value, rrtype = _value_and(rest[1:], 1)
        return DnsdbCall(verb=verb, kind="rrset", name=NameMatch("exact", _wire_name(value)), types=_types(rrtype))
    if what == "rdata" and sub == "name":
        value, rrtype = _value_and(rest[1:], 1)
        return DnsdbCall(verb=verb, kind="rdata_name", name=_name(value, leading_dot=True), types=_types(rrtype))
    if what == "rdata" and sub == "ip":
        value, rrtype = _value_and(rest[1:], 1)
        if rrtype and rrtype.upper() not in ("A", "AAAA", "ANY"):
            raise InvalidQuery("rdata/ip takes only the rrtype A, AAAA or ANY")
        return DnsdbCall(verb=verb, kind="rdata_ip", ip=IpRange.parse(value))
    if what == "rdata" and sub == "raw":
        value, rrtype = _value_and(rest[1:], 1)
        types = _types(rrtype)
        return DnsdbCall(verb=verb, kind="rdata_raw", types=types, raw=_raw_candidates(value, types))
    raise UnknownPath()


def _value_and(rest: list[str], optional: int) -> tuple[Any, ...]:
    """The required value and up to ``optional`` more components (None when absent)."""
    if not rest or not rest[0]:
        raise InvalidQuery("the query value is missing")
    if len(rest) > 1 + optional:
        raise InvalidQuery("too many path components")
    return (rest[0], *(rest[1 + i] if len(rest) > 1 + i and rest[1 + i] else None for i in range(optional)))


def _types(rrtype: str | None) -> TypeFilter:
    """``ANY`` (default: all but DNSSEC), ``ANY-DNSSEC``, a mnemonic or ``TYPEn``, any case; no lists."""
    if rrtype is None:
        return TypeFilter(dnssec=False)
    if "," in rrtype:
        raise InvalidQuery("give one rrtype per request")
    return TypeFilter.parse(rrtype)


def _name(value: str, leading_dot: bool = False) -> NameMatch:
    return NameMatch.parse(value, leading_dot_wildcard=leading_dot)


def _bailiwick(value: str | None) -> str | None:
    if value is None:
        return None
    match = NameMatch.parse(value)
    if match.kind != "exact":
        raise InvalidQuery("a bailiwick must be an exact name")
    return match.name


def _wire_name(hexdata: str) -> str:
    try:
        wire = bytes.fromhex(hexdata)
        name, used = dns.name.from_wire(wire, 0)
    except (ValueError, dns.exception.DNSException) as exc:
        raise InvalidQuery(f"not a wire-format name in hex: {exc}") from None
    if used != len(wire):
        raise InvalidQuery("trailing bytes after the wire-format name")
    return _name(name.to_text()).name


def _raw_candidates(hexdata: str, types: TypeFilter) -> tuple[tuple[int, str], ...]:
    """The canonical rdata a hex string denotes: for the given type, or every plausible type."""
    if len(hexdata) % 2 or not all(c in "0123456789abcdefABCDEF" for c in hexdata):
        raise InvalidQuery("raw rdata must be an even number of hex digits")
    if types.codes is not None:
        codes = sorted(types.codes)
    else:
        codes = [rrtypes.rrtype_code(t) for t in RAW_CANDIDATES]
        codes = [c for c in codes if (c in rrtypes.DNSSEC_TYPES) == bool(types.dnssec)]
    found = []
    for code in codes:
        try:
            found.append((code, from_wire_hex(code, hexdata)))
        except InvalidRdata:
            if types.codes is not None:
                raise InvalidQuery(f"the hex is not valid {rrtypes.rrtype_text(code)} rdata") from None
    return tuple(found)
