"""Where the TTLs of a response are, and whether its decoding may be reused for a response equal but for them.

A sensor's responses mostly repeat an earlier one but for the transaction id
and the TTLs. Reusing a decoding by bytes with the id and TTLs masked out is
sound only if decoding never reads those bytes: ``walk`` follows the owner
names and the rdata names it knows (CNAME, NS, PTR, DNAME, MX, SRV, SOA) and
refuses (None) a message whose compression pointers reach the header or a
TTL field, or whose sections are cut short. Such a message is decoded every
time it is seen. Other rdata is compared as opaque bytes.

``walk`` runs the C version (``_fastwire.walk``) when it is built, and else
``walk_python``, the reference it is tested against.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import NamedTuple

from yapdns.agent.wire.boundary import c_helper
from yapdns.core import rrtypes as t

_RR = struct.Struct("!HHIH")  # type, class, TTL, rdata length
_NAME_ONLY = frozenset({t.CNAME, t.NS, t.PTR, t.DNAME})
_NAME_AT = {t.MX: 2, t.SRV: 6}  # rdata types with one name after a fixed part
# rdata without any domain name, safe to compare as opaque bytes: A, AAAA, HINFO, TXT, LOC, SSHFP, DS, DNSKEY,
# NSEC3, NSEC3PARAM, TLSA, SMIMEA, CDS, CDNSKEY, OPENPGPKEY, ZONEMD, SPF, EUI48, EUI64, URI, CAA. Any other type may
# carry a (compressible, for dnspython) name the walk does not follow: not cached.
_OPAQUE = frozenset({1, 28, 13, 16, 29, 44, 43, 48, 50, 51, 52, 53, 59, 60, 61, 63, 99, 108, 109, 256, 257})


class Walk(NamedTuple):
    """The result of walking a response (C makes it as a plain tuple of these fields: ``boundary``)."""

    qend: int  # offset just after the question
    end: int  # offset just after the authority section
    offsets: tuple[int, ...]  # every TTL offset, answer and authority
    answer_ttls: tuple[int, ...]  # the answer TTL offsets
    variant: bytes | None = None  # the variant key (``answers.Layout.variant``) when the C batch loop made it


# the C walk when it is built and agrees on Walk's fields, else None (walk_python runs: same results)
_walk_c: Callable[[bytes], tuple[int, int, tuple[int, ...], tuple[int, ...], None] | None] | None = c_helper(
    "walk", {"Walk": Walk._fields}
)


def _name(buf: bytes, off: int, ttls: list[int]) -> int:
    """Offset after the name at ``off``, or -1 if it is malformed or a pointer reaches the header or a TTL."""
    n = len(buf)
    end = -1
    limit = off
    size = 0
    while off < n:
        length = buf[off]
        if length == 0:
            return off + 1 if end < 0 else end
        if length < 64:
            nxt = off + 1 + length
            size += length + 1
        else:
            nxt = off + 2
        if nxt > n or size > 254 or 64 <= length < 0xC0 or (end >= 0 and _overlaps(off, nxt, ttls)):
            return -1
        if length < 64:
            off = nxt
            continue
        ptr = ((length & 0x3F) << 8) | buf[off + 1]
        if ptr < 12 or ptr >= limit:
            return -1
        if end < 0:
            end = nxt
        limit = off = ptr
    return -1


def _overlaps(start: int, stop: int, ttls: list[int]) -> bool:
    """Whether bytes [start, stop), read through a compression pointer, overlap a TTL field."""
    return any(ttl < stop and start < ttl + 4 for ttl in ttls)


def walk(msg: bytes) -> Walk | None:
    """The layout of a response's answer and authority sections; None when it cannot be cached safely."""
    if _walk_c is None:
        return walk_python(msg)
    found = _walk_c(msg)
    return None if found is None else Walk._make(found)


def walk_python(msg: bytes) -> Walk | None:
    """``walk`` in Python: the reference for the C version, and the walk where it is not built."""
    n = len(msg)
    if n < 17:
        return None
    ancount, nscount = struct.unpack_from("!HH", msg, 6)
    qend = msg.find(0, 12) + 5  # the rule the packet paths cut the question with
    ttls: list[int] = []
    if _name(msg, 12, ttls) + 4 != qend or qend > n:
        return None
    off = qend
    answer_ttls: list[int] = []
    for i in range(ancount + nscount):
        # the usual owner, a pointer to the question's name (checked above), needs no walk
        off = off + 2 if msg[off : off + 2] == b"\xc0\x0c" else _name(msg, off, ttls)
        if off < 0 or off + 10 > n:
            return None
        rrtype, _, _, rdlen = _RR.unpack_from(msg, off)
        ttl_at = off + 4
        start, off = off + 10, off + 10 + rdlen
        if off > n:
            return None
        ttls.append(ttl_at)
        if i < ancount:
            answer_ttls.append(ttl_at)
            if not _rdata_names_ok(msg, rrtype, start, off, ttls):
                return None
    return Walk(qend, off, tuple(ttls), tuple(answer_ttls))


def _rdata_names_ok(msg: bytes, rrtype: int, start: int, end: int, ttls: list[int]) -> bool:
    if rrtype in _NAME_ONLY:
        return start < end and _name(msg, start, ttls) > 0
    at = _NAME_AT.get(rrtype)
    if at is not None:
        return start + at < end and _name(msg, start + at, ttls) > 0
    if rrtype == t.SOA:
        after = _name(msg, start, ttls) if start < end else -1
        return after > 0 and _name(msg, after, ttls) > 0
    return rrtype in _OPAQUE
