"""Zeek's untyped answer vectors turned back into RRsets, inferring only what is certain.

Zeek's ``answers`` holds the answer section in wire order, one string per RR,
with no owner name and no type; ``TTLs`` is aligned index by index. What each
string is follows from Zeek's ``base/protocols/dns/main.zeek``:

* an IP literal is an A (IPv4) or AAAA (IPv6) record;
* ``TXT <len> <bytes> [TXT <len> <bytes>...]`` is one TXT record (``SPF ...`` one SPF
  record): the lengths let us rebuild its character-strings exactly;
* a bare name is the target of a CNAME, NS, PTR, MX (preference dropped), SRV
  (priority/weight/port dropped) or the MNAME of an SOA;
* anything else (``RRSIG 5 cmu.edu``, ``DNSKEY 5``, ``NAPTR ...``, ``<unknown type=N>``,
  update prerequisites...) is not full rdata and is skipped.

Owners and types of names are reconstructed as follows, and only so:

* query types whose own records Zeek never prints as a bare name (A, AAAA, TXT,
  SPF and the DNSSEC/SSHFP/LOC/NAPTR types): the names are a CNAME chain in answer
  order (the first is the CNAME of the query, each next one the CNAME of the
  previous), and the addresses/TXT belong to the last name of the chain;
* CNAME queries: the names are the same chain;
* PTR queries: leading names under ``in-addr.arpa``/``ip6.arpa`` are an RFC 2317
  CNAME chain, the other names are the PTR RRset of the chain's end;
* NS queries whose answers are all names: the NS RRset of the query name;
* MX, SRV, SOA, ANY, unknown query types: names are skipped (their rdata is
  incomplete or their type unknowable); addresses and TXT are kept with the
  query name as owner only when no name precedes them.

A name that follows an address or TXT makes the order unreliable, and the
row's positive answers are then all skipped. An RRset's TTL is the smallest
TTL of its records.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from yapdns.agent.parsers._addr import ip_rrtype

_CHAIN_QTYPES = frozenset(
    {"A", "AAAA", "A6", "TXT", "SPF", "CNAME", "DNSKEY", "DS", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM",
     "SSHFP", "LOC", "NAPTR"}
)  # fmt: skip
_TEXT_RR = re.compile(rb"(TXT|SPF) (\d+) ")
_ARPA = (".in-addr.arpa", ".ip6.arpa", ".in-addr.arpa.", ".ip6.arpa.")
_PRINTABLE = frozenset(range(0x20, 0x7F)) - {ord('"'), ord("\\")}


class RRset(NamedTuple):
    """One reconstructed RRset: owner, type, rdata in presentation form, smallest TTL."""

    owner: str
    rrtype: str
    rdata: tuple[str, ...]
    ttl: int | None


class _Shape(NamedTuple):
    """An RRset without its TTL: which answers (by index) it is made of."""

    owner: str
    rrtype: str
    rdata: tuple[str, ...]
    members: tuple[int, ...]


class Reconstruction(NamedTuple):
    rrsets: list[RRset]
    chain_end: str  # the name the final answer (or the rcode) is about


def _text_rdata(value: str) -> tuple[str, str] | None:
    """``TXT 5 hello TXT 3 abc`` → (``TXT``, ``"hello" "abc"``); ``None`` if not that shape."""
    raw = value.encode("utf-8", "surrogateescape")
    pos, kind, strings = 0, "", []
    while pos < len(raw):
        match = _TEXT_RR.match(raw, pos)
        if not match or (kind and match.group(1).decode() != kind):
            return None
        kind = match.group(1).decode()
        start = match.end()
        end = start + int(match.group(2))
        if end > len(raw) or (end < len(raw) and raw[end : end + 1] != b" "):
            return None
        strings.append(_quote(raw[start:end]))
        pos = end + 1 if end < len(raw) else end
    return (kind, " ".join(strings)) if strings else None


def _quote(data: bytes) -> str:
    """One DNS character-string in master-file form."""
    out = []
    for byte in data:
        if byte in _PRINTABLE:
            out.append(chr(byte))
        elif byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


@lru_cache(maxsize=65536)
def classify(value: str) -> tuple[str, str]:
    """(kind, rdata): kind is an rrtype (``A``, ``AAAA``, ``TXT``, ``SPF``), ``name`` or ``skip``."""
    family = ip_rrtype(value)
    if family:
        return family, value
    if value.startswith(("TXT ", "SPF ")):
        text = _text_rdata(value)
        return text if text else ("skip", value)
    if not value or " " in value or value[0] == "<" or value in ("NSEC3", "NSEC3PARAM"):
        return "skip", value
    return "name", value


def reconstruct(query: str, qtype: str | None, answers: Sequence[str], ttls: Sequence[int | None]) -> Reconstruction:
    """The RRsets that ``answers`` certainly contain (see the module docstring)."""
    shapes, chain_end = answer_shapes(query, qtype, tuple(answers))
    return Reconstruction([RRset(*shape[:3], smallest_ttl(ttls, shape.members)) for shape in shapes], chain_end)


def smallest_ttl(ttls: Sequence[int | None], members: tuple[int, ...]) -> int | None:
    """The TTL of an RRset: the smallest TTL logged for its members (``None`` if none is)."""
    if len(members) == 1:  # the common case, without building a list
        i = members[0]
        return ttls[i] if i < len(ttls) else None
    known = [t for i in members if i < len(ttls) and (t := ttls[i]) is not None]
    return min(known) if known else None


_Members = list[tuple[str, int]]  # (rdata, index in the answers vector)


@lru_cache(maxsize=16384)
def answer_shapes(query: str, qtype: str | None, answers: tuple[str, ...]) -> tuple[tuple[_Shape, ...], str]:
    """The RRsets of a row, by answer index; the same answers to the same question recur, so this is cached."""
    names: _Members = []
    data: list[tuple[str, str, int]] = []
    for i, answer in enumerate(answers):
        kind, value = classify(answer)
        if kind == "skip":
            continue
        if kind != "name":
            data.append((kind, value, i))
        elif data:  # a name after an address or TXT: the order cannot be trusted
            return (), query
        else:
            names.append((value, i))
    if qtype in _CHAIN_QTYPES:
        shapes, end = _cname_chain(query, names)
        return (*shapes, *_grouped(end, data)), end
    if qtype == "PTR":
        return _ptr(query, names, data)
    if qtype == "NS" and names and not data:
        return (_shape(query, "NS", names),), query
    if names:
        return (), query
    return tuple(_grouped(query, data)), query


def _cname_chain(query: str, names: _Members) -> tuple[list[_Shape], str]:
    shapes, owner = [], query
    for target, i in names:
        shapes.append(_Shape(owner, "CNAME", (target,), (i,)))
        owner = target
    return shapes, owner


def _ptr(query: str, names: _Members, data: list[tuple[str, str, int]]) -> tuple[tuple[_Shape, ...], str]:
    split = 0
    while split < len(names) and names[split][0].endswith(_ARPA):
        split += 1
    if any(n.endswith(_ARPA) for n, _ in names[split:]):
        return (), query
    shapes, owner = _cname_chain(query, names[:split])
    if names[split:]:
        shapes.append(_shape(owner, "PTR", names[split:]))
    return (*shapes, *_grouped(owner, data)), owner


def _shape(owner: str, rrtype: str, members: _Members) -> _Shape:
    return _Shape(owner, rrtype, tuple(v for v, _ in members), tuple(i for _, i in members))


def _grouped(owner: str, data: list[tuple[str, str, int]]) -> list[_Shape]:
    by_type: dict[str, _Members] = {}
    for kind, value, i in data:
        by_type.setdefault(kind, []).append((value, i))
    return [_shape(owner, kind, members) for kind, members in by_type.items()]
