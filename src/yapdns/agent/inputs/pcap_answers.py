"""Matched responses without decoding them again: layouts by header and question, variants by masked bytes.

Most responses a sensor sees repeat an earlier one but for the transaction
id and the TTLs (a resolver's cache counts them down). ``AnswerLayouts``
remembers, per header-and-question bytes (flags, counts, the raw question),
the *layout* of the answer and authority sections: where they end, where
their TTLs are. A later response with the same header and question is
checked against it in three C-level operations: its answer and authority
bytes as one integer, TTL bytes masked out, looked up among the *variants*
already decoded (a round-robin RRset in another order is another variant);
its answer TTLs come out of one ``struct`` unpack at the layout's offsets.

Why equal masked bytes mean an equal decoding: the walk that found the
layout reads only bytes outside the TTL fields (name labels, type, class,
rdata length), so the same bytes walk the same way; and the walk refuses
(returns None: the caller then decodes as before, uncached) a message whose
compression pointers reach the header (its id is not part of the key) or a
TTL field, in owner names and in the rdata names it knows (CNAME, NS, PTR,
DNAME, MX, SRV, SOA). Other rdata is compared as opaque bytes, as
``dnsobs.ResponseCache`` does.

Matched responses are folded per batch at this level, by (variant, answer
TTLs): a response costs a dict update; ``drain`` spreads the folded counts
over the variant's RRset templates once per batch.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from yapdns.agent.dnsmsg import DnsFormatError, decode_response
from yapdns.agent.dnsobs import ObservationBuilder
from yapdns.agent.parsing import ParseStats
from yapdns.core import rrtypes as t
from yapdns.core.model import Observation

_TTL_MAX = 2**31 - 1
_H = struct.Struct("!H")
_NAME_ONLY = frozenset({t.CNAME, t.NS, t.PTR, t.DNAME})
_NAME_AT = {t.MX: 2, t.SRV: 6}  # rdata types with one name after a fixed part
MAX_LAYOUTS = 50_000
MAX_VARIANTS = 16

Entries = tuple[tuple[Observation, tuple[int, ...]], ...]  # RRset templates, each with its answer RR indices
TtlReader = Callable[[bytes, int], tuple[int, ...]]


class Layout:
    """Where the answer and authority sections of one header + question end, and where their TTLs are."""

    __slots__ = ("end", "mask", "offsets", "ttls", "variants")

    def __init__(self, end: int, mask: int, offsets: tuple[int, ...], ttls: TtlReader) -> None:
        self.end = end  # offset (from the message start) just after the authority section
        self.mask = mask  # all ones over [question end, end) but zeros over each TTL
        self.offsets = offsets  # every TTL offset (answer and authority), identifies the layout
        self.ttls = ttls  # unpack_from(buffer, message offset) -> the answer TTLs
        self.variants: dict[int, Entries] = {}


class Walk:
    """The result of walking a response: question end, sections end, TTL offsets."""

    __slots__ = ("answer_ttls", "end", "offsets", "qend")

    def __init__(self, qend: int, end: int, offsets: tuple[int, ...], answer_ttls: tuple[int, ...]) -> None:
        self.qend = qend
        self.end = end
        self.offsets = offsets
        self.answer_ttls = answer_ttls


def _name(buf: bytes, off: int, ttls: list[int]) -> int:
    """Offset after the name at ``off``, or -1 if it is malformed or a pointer reaches the header or a TTL."""
    n = len(buf)
    end = -1
    limit = off
    size = 0
    while True:
        if off >= n:
            return -1
        length = buf[off]
        if length == 0:
            return off + 1 if end < 0 else end
        if length < 64:
            nxt = off + 1 + length
            size += length + 1
            if nxt > n or size > 254:
                return -1
        elif length >= 0xC0:
            nxt = off + 2
            if nxt > n:
                return -1
        else:
            return -1
        for ttl in ttls:  # the bytes just read, [off, nxt), must not overlap a TTL
            if ttl < nxt and off < ttl + 4:
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


def walk(msg: bytes) -> Walk | None:
    """The layout of a response's answer and authority sections; None when it cannot be cached safely."""
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
        off = _name(msg, off, ttls)
        if off < 0 or off + 10 > n:
            return None
        rrtype = _H.unpack_from(msg, off)[0]
        ttl_at = off + 4
        rdlen = _H.unpack_from(msg, off + 8)[0]
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
    return True


def _layout(found: Walk) -> Layout:
    qend, end = found.qend, found.end
    mask = bytearray(b"\xff" * (end - qend))
    for ttl in found.offsets:
        mask[ttl - qend : ttl - qend + 4] = b"\0\0\0\0"
    fmt, pos = "!", 0
    for ttl in found.answer_ttls:
        fmt += f"{ttl - pos}xI"
        pos = ttl + 4
    return Layout(end, int.from_bytes(mask, "big"), found.offsets, struct.Struct(fmt).unpack_from)


class AnswerLayouts:
    """Layouts and decoded variants of matched responses, and their per-batch fold."""

    def __init__(self, builder: ObservationBuilder, stats: ParseStats, max_layouts: int = MAX_LAYOUTS) -> None:
        self.builder = builder
        self.stats = stats
        self.max_layouts = max_layouts
        self.layouts: dict[bytes, Layout] = {}  # key: message bytes from the flags to the question's end
        self.fold: dict[tuple[int, tuple[int, ...]], list[Any]] = {}  # (id(entries), TTLs) -> [first, last, n, entries, TTLs]

    def sighting(self, msg: bytes, sec: int, ref: int) -> bool:
        """Fold one matched response (QR, opcode, TC checked by the caller); False when it cannot be cached."""
        qend = msg.find(0, 12) + 5
        layout = self.layouts.get(msg[2:qend])
        if layout is not None and layout.end <= len(msg):
            entries = layout.variants.get(int.from_bytes(msg[qend : layout.end], "big") & layout.mask)
            if entries is not None:
                self.count(entries, layout.ttls(msg, 0), sec)
                return True
        return self.add(msg, sec, ref)

    def add(self, msg: bytes, sec: int, ref: int) -> bool:
        """Decode a matched response not seen before and fold it; False when it cannot be cached (caller's path)."""
        found = walk(msg)
        if found is None:
            return False
        key = msg[2 : found.qend]
        layout = self.layouts.get(key)
        if layout is None or layout.offsets != found.offsets:
            if len(self.layouts) >= self.max_layouts:
                self.layouts.clear()
            layout = self.layouts[key] = _layout(found)
        try:
            resp = decode_response(msg)
        except DnsFormatError as exc:
            self.stats.bad(ref, exc.code, str(exc), msg[:64].hex())
            return True
        entries: Entries = tuple(self.builder.templates(resp, ref=ref))
        if len(layout.variants) >= MAX_VARIANTS:
            layout.variants.clear()
        layout.variants[int.from_bytes(msg[found.qend : found.end], "big") & layout.mask] = entries
        self.count(entries, layout.ttls(msg, 0), sec)
        return True

    def count(self, entries: Entries, ttls: tuple[int, ...], sec: int) -> None:
        """One sighting of a decoded variant with these answer TTLs at ``sec``."""
        key = (id(entries), ttls)  # the fold holds ``entries``, so its id is not reused meanwhile
        seen = self.fold.get(key)
        if seen is None:
            self.fold[key] = [sec, sec, 1, entries, ttls]
        else:
            seen[2] += 1
            if sec > seen[1]:
                seen[1] = sec
            elif sec < seen[0]:
                seen[0] = sec

    def drain(self, into: dict[tuple[int, int | None], list[Any]]) -> None:
        """Move the folded sightings into a per-RRset fold: (id(template), ttl) -> [first, last, n, template, ttl]."""
        for first, last, count, entries, ttls in self.fold.values():
            for template, indices in entries:
                if not indices:
                    ttl = None
                else:
                    ttl = ttls[indices[0]] if len(indices) == 1 else min(ttls[i] for i in indices)
                    if ttl > _TTL_MAX:
                        ttl = 0
                key = (id(template), ttl)
                seen = into.get(key)
                if seen is None:
                    into[key] = [first, last, count, template, ttl]
                else:
                    seen[2] += count
                    if last > seen[1]:
                        seen[1] = last
                    if first < seen[0]:
                        seen[0] = first
        self.fold = {}
