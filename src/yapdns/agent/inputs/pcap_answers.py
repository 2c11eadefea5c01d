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

Why equal masked bytes mean an equal decoding: ``dnslayout.walk``, which
found the layout, reads only bytes outside the TTL fields and refuses a
message whose compression pointers reach the header or a TTL (it is then
decoded every time it is seen).

Sightings are folded by RRset template until the processor's ``take``
(``fold_rrsets``): first and last time, count, smallest and largest TTL,
which is what the agent's aggregator keeps of repeats too
(``agent.aggregate``). The decoder reads nothing of the additional section
(EDNS, cookies), so it is left out of the comparison.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

from yapdns.agent.dnslayout import Walk, walk
from yapdns.agent.dnsmsg import DnsFormatError, decode_response
from yapdns.agent.dnsobs import ObservationBuilder
from yapdns.agent.parsing import ParseStats
from yapdns.core.model import Observation

_TTL_MAX = 2**31 - 1
MAX_LAYOUTS = 200_000  # about 0.35 KB each with its variant (29 MiB for 84k, measured)
MAX_VARIANTS = 16

# An RRset template's id, the template, what picks its RRs' TTLs from the answer TTLs (None for a negative answer;
# one TTL, or a tuple of them when the RRset has several RRs) and whether it has several
Entries = tuple[tuple[int, Observation, Callable[[Sequence[int]], Any] | None, bool], ...]
Fold = dict[int, list[Any]]  # id(template) -> [first, last, count, template, ttl_min, ttl_max]
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


_shapes: dict[tuple[int, int, tuple[int, ...], tuple[int, ...]], tuple[int, TtlReader]] = {}
_readers: dict[str, TtlReader] = {}  # compiled TTL readers by struct format (compiling costs more than a lookup)


def _layout(found: Walk) -> Layout:
    """A new layout; its mask and TTL reader are shared by every layout with the same offsets."""
    qend, end = found.qend, found.end
    shape = (qend, end, found.offsets, found.answer_ttls)
    made = _shapes.get(shape)
    if made is None:
        mask = bytearray(b"\xff" * (end - qend))
        for ttl in found.offsets:
            mask[ttl - qend : ttl - qend + 4] = b"\0\0\0\0"
        fmt, pos = "!", 0
        for ttl in found.answer_ttls:
            fmt += f"{ttl - pos}xI"
            pos = ttl + 4
        reader = _readers.get(fmt)
        if reader is None:
            if len(_readers) >= MAX_LAYOUTS:
                _readers.clear()
            reader = _readers[fmt] = struct.Struct(fmt).unpack_from
        if len(_shapes) >= MAX_LAYOUTS:
            _shapes.clear()
        made = _shapes[shape] = (int.from_bytes(mask, "big"), reader)
    return Layout(end, made[0], found.offsets, made[1])


class AnswerLayouts:
    """Layouts and decoded variants of matched responses, and the fold of their sightings."""

    def __init__(self, builder: ObservationBuilder, stats: ParseStats, max_layouts: int = MAX_LAYOUTS) -> None:
        self.builder = builder
        self.stats = stats
        self.max_layouts = max_layouts
        self.layouts: dict[bytes, Layout] = {}  # key: message bytes from the flags to the question's end
        self.fold: Fold = {}

    def sighting(self, msg: bytes, sec: int, ref: int, sensor: str | None = None) -> None:
        """Fold one matched response (QR, opcode and TC checked by the caller), decoding it only if new.

        With ``sensor`` (the server in the sensor id) layouts are keyed by it too.
        """
        qend = msg.find(0, 12) + 5
        key = msg[2:qend] if sensor is None else f"{sensor}\0".encode() + msg[2:qend]
        layout = self.layouts.get(key)
        if layout is not None and layout.end <= len(msg):
            entries = layout.variants.get(int.from_bytes(msg[qend : layout.end], "big") & layout.mask)
            if entries is not None:
                fold_rrsets(self.fold, entries, layout.ttls(msg, 0), sec)
                return
        self.add(msg, sec, ref, sensor)

    def add(self, msg: bytes, sec: int, ref: int, sensor: str | None = None) -> None:
        """Decode a response not seen before, fold it, and remember its layout and variant if it can be cached."""
        try:
            resp = decode_response(msg)
        except DnsFormatError as exc:
            self.stats.bad(ref, exc.code, str(exc), msg[:64].hex())
            return
        entries = entries_of(self.builder.templates(resp, sensor_id=sensor, ref=ref))
        found = walk(msg)
        if found is None:  # decodable, not cacheable: a pointer into a TTL or the header, a section cut short
            fold_rrsets(self.fold, entries, [rr[3] for rr in resp.answers], sec)
            return
        key = msg[2 : found.qend] if sensor is None else f"{sensor}\0".encode() + msg[2 : found.qend]
        layout = self.layouts.get(key)
        if layout is None or layout.offsets != found.offsets:
            if len(self.layouts) >= self.max_layouts:
                self.layouts.clear()
            layout = self.layouts[key] = _layout(found)
        if len(layout.variants) >= MAX_VARIANTS:
            layout.variants.clear()
        layout.variants[int.from_bytes(msg[found.qend : found.end], "big") & layout.mask] = entries
        fold_rrsets(self.fold, entries, layout.ttls(msg, 0), sec)


def fold_rrsets(fold: Fold, entries: Entries, ttls: Sequence[int], sec: int) -> None:
    """Fold one response's RRsets (templates and their answer RR indices) seen at ``sec`` with answer ``ttls``."""
    for tid, template, pick, several in entries:
        seen = fold.get(tid)
        if pick is not None:
            ttl = min(pick(ttls)) if several else pick(ttls)
            if ttl > _TTL_MAX:
                ttl = 0
            if seen is None:
                fold[tid] = [sec, sec, 1, template, ttl, ttl]
                continue
            if ttl < seen[4]:
                seen[4] = ttl
            elif ttl > seen[5]:
                seen[5] = ttl
        elif seen is None:
            fold[tid] = [sec, sec, 1, template, None, None]
            continue
        seen[2] += 1
        if sec > seen[1]:
            seen[1] = sec
        elif sec < seen[0]:
            seen[0] = sec


def entries_of(templates: Iterable[tuple[Observation, tuple[int, ...]]]) -> Entries:
    """``ObservationBuilder.templates`` as fold entries: (id of the template, template, TTL picker, several RRs)."""
    return tuple(
        [
            (id(template), template, itemgetter(*indices) if indices else None, len(indices) > 1)
            for template, indices in templates
        ]
    )
