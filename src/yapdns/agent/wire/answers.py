"""Matched responses without decoding them again: layouts by header and question, variants by masked bytes.

Most responses a sensor sees repeat an earlier one but for the transaction
id and the TTLs (a resolver's cache counts them down). ``AnswerLayouts``
remembers, per header-and-question bytes (flags, counts, the raw question),
the *layout* of the answer and authority sections: where they end, where
their TTLs are. A later response with the same header and question is
checked against it: its answer and authority bytes, TTL bytes zeroed, are
looked up among the *variants* already decoded (a round-robin RRset in
another order is another variant), and its answer TTLs are read at the
layout's offsets. The C batch loop (``_fastwire.c``) does the same with
the same objects, whose fields ``boundary`` names on both sides: a layout
is a tuple of ints and a dict of variants (``Layout``), fold entries are
tuples of an id, a template and ints (``ENTRY_FIELDS``), so that C can read
them by position, and so that the cyclic GC can stop tracking them once
built.

Why equal masked bytes mean an equal decoding: ``layout.walk``, which
found the layout, reads only bytes outside the TTL fields and refuses a
message whose compression pointers reach the header or a TTL (it is then
decoded every time it is seen).

Sightings are folded by RRset template until the processor's ``take``
(``Fold``, ``fold_rrsets``): first and last time, count, smallest and
largest TTL, which is what the agent's aggregator keeps of repeats too
(``agent.aggregate``). The decoder reads nothing of the additional section
(EDNS, cookies), so it is left out of the comparison.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple

from yapdns.agent.parsing import ParseStats
from yapdns.agent.wire.boundary import Shape, by_name, c_helper
from yapdns.agent.wire.layout import Walk, walk
from yapdns.agent.wire.message import DnsFormatError, decode_response
from yapdns.agent.wire.observations import ObservationBuilder
from yapdns.core.model import Observation

_TTL_MAX = 2**31 - 1
MAX_LAYOUTS = 200_000  # about 0.35 KB each with its variant (29 MiB for 84k, measured)
MAX_VARIANTS = 16

ENTRY_FIELDS = ("template_id", "template", "indices")
"""A fold entry, one per RRset of a variant: the template's id, the template, and the indices of its RRs among the
answer RRs (none for a negative answer). A plain tuple, which the cyclic GC stops tracking."""
Entries = tuple[tuple[int, Observation, tuple[int, ...]], ...]
FOLD_FIELDS = ("first", "last", "count", "ttl_min", "ttl_max")
"""One folded RRset's numbers, native int64 each (``FOLD``); ``NO_TTL`` as both TTLs for a negative answer."""
FOLD = struct.Struct(f"={len(FOLD_FIELDS)}q")  # "=5q": one repeated code packs faster than "=qqqqq"
NO_TTL = -1
TtlReader = Callable[[bytes, int], tuple[int, ...]]
Walked = Walk | tuple[int, int, tuple[int, ...], tuple[int, ...], bytes | None]  # a Walk, or C's tuple of its fields


class Layout(NamedTuple):
    """Where the answer and authority sections of one header + question end, and where their TTLs are.

    The C loop reads the fields by position (named in ``boundary.h``), and makes variant keys itself.
    """

    end: int  # offset (from the message start) just after the authority section
    offsets: tuple[int, ...]  # every TTL offset (answer and authority): zeroed in a variant's key
    answer_ttls: tuple[int, ...]  # the answer TTL offsets
    variants: dict[bytes, Entries]  # a variant's key -> fold entries
    qend: int  # offset just after the question

    def variant(self, section: bytes) -> bytes:
        """The variant key of a message's bytes from its question's end to ``end``: the TTLs zeroed."""
        return (int.from_bytes(section, "big") & _mask(self.qend, self.end, self.offsets)).to_bytes(len(section), "big")

    def ttls(self, buf: bytes, msg: int) -> tuple[int, ...]:
        """The answer TTLs of the message at offset ``msg`` of ``buf``."""
        return _reader(self.answer_ttls)(buf, msg)


_masks: dict[tuple[int, int, tuple[int, ...]], int] = {}
_readers: dict[tuple[int, ...], TtlReader] = {}  # compiled TTL readers by offsets (compiling costs more than a lookup)


def _mask(qend: int, end: int, offsets: tuple[int, ...]) -> int:
    """All ones over [qend, end) but zeros over each TTL: shared by every layout of that shape, made when first
    asked for (only the Python code asks: the C loop masks the bytes itself)."""
    shape = (qend, end, offsets)
    mask = _masks.get(shape)
    if mask is None:
        zeroed = bytearray(b"\xff" * (end - qend))
        for ttl in offsets:
            zeroed[ttl - qend : ttl - qend + 4] = b"\0\0\0\0"
        if len(_masks) >= MAX_LAYOUTS:
            _masks.clear()
        mask = _masks[shape] = int.from_bytes(zeroed, "big")
    return mask


def _reader(answer_ttls: tuple[int, ...]) -> TtlReader:
    reader = _readers.get(answer_ttls)
    if reader is None:
        fmt, pos = "!", 0
        for ttl in answer_ttls:
            fmt += f"{ttl - pos}xI"
            pos = ttl + 4
        if len(_readers) >= MAX_LAYOUTS:
            _readers.clear()
        reader = _readers[answer_ttls] = struct.Struct(fmt).unpack_from
    return reader


class AnswerLayouts:
    """Layouts and decoded variants of matched responses, and the fold of their sightings."""

    def __init__(self, builder: ObservationBuilder, stats: ParseStats, max_layouts: int = MAX_LAYOUTS) -> None:
        self.builder = builder
        self.stats = stats
        self.max_layouts = max_layouts
        self.layouts: dict[bytes, Layout] = {}  # key: message bytes from the flags to the question's end
        self.fold = Fold()

    def sighting(self, msg: bytes, sec: int, ref: int, sensor: str | None = None) -> None:
        """Fold one matched response (QR, opcode and TC checked by the caller), decoding it only if new.

        With ``sensor`` (the server in the sensor id) layouts are keyed by it too.
        """
        qend = msg.find(0, 12) + 5
        key = msg[2:qend] if sensor is None else f"{sensor}\0".encode() + msg[2:qend]
        layout = self.layouts.get(key)
        if layout is not None and layout.end <= len(msg):
            entries = layout.variants.get(layout.variant(msg[qend : layout.end]))
            if entries is not None:
                fold_layout(self.fold, entries, layout, msg, sec)
                return
        self.add(msg, sec, ref, sensor)

    def add(self, msg: bytes, sec: int, ref: int, sensor: str | None = None) -> None:
        """Decode a response not seen before, fold it, and remember its layout and variant if it can be cached."""
        self._learn(msg, sec, ref, sensor, walk(msg))

    def learn(self, msg: bytes, sec: int, walked: Walked | None) -> None:
        """``add`` for the C loop, which has walked ``msg`` itself (``_fastwire``: the walk and the variant key)."""
        self._learn(msg, sec, self.stats.lines, None, walked)

    def _learn(self, msg: bytes, sec: int, ref: int, sensor: str | None, walked: Walked | None) -> None:
        """Decode ``msg``, fold it, and keep its layout and variant when ``walked`` says it can be cached."""
        try:
            resp = decode_response(msg)
        except DnsFormatError as exc:
            self.stats.bad(ref, exc.code, str(exc), msg[:64].hex())
            return
        entries = entries_of(self.builder.templates(resp, sensor_id=sensor, ref=ref))
        if walked is None:  # decodable, not cacheable: a pointer into a TTL or the header, a section cut short
            fold_rrsets(self.fold, entries, [rr[3] for rr in resp.answers], sec)
            return
        qend, end, offsets, answer_ttls, variant = walked  # Walk's fields, in order (boundary)
        key = msg[2:qend] if sensor is None else f"{sensor}\0".encode() + msg[2:qend]
        layout = self.layouts.get(key)
        if layout is None or layout.offsets != offsets or layout.end != end:  # a variant key spans [qend, end)
            if len(self.layouts) >= self.max_layouts:
                self.layouts.clear()
            layout = self.layouts[key] = Layout(end, offsets, answer_ttls, {}, qend)
        if len(layout.variants) >= MAX_VARIANTS:
            layout.variants.clear()
        layout.variants[layout.variant(msg[qend:end]) if variant is None else variant] = entries
        fold_layout(self.fold, entries, layout, msg, sec)


class Fold:
    """RRset sightings folded until taken, by template id: their numbers (``FOLD_FIELDS``) and their template.

    The numbers are bytearrays, updated in place (by the C loop too, which reads both dicts by name): unlike
    lists of ints, they are not tracked by the cyclic GC, which would otherwise walk every one of them in each
    collection.
    """

    __slots__ = ("numbers", "templates")

    def __init__(self) -> None:
        self.numbers: dict[int, bytearray] = {}
        self.templates: dict[int, Observation] = {}

    def __len__(self) -> int:
        return len(self.numbers)

    def drain(self) -> Iterator[tuple[Observation, int, int, int, int | None, int | None]]:
        """Each folded RRset once: template, first, last, count, smallest and largest TTL; then forget them."""
        templates = self.templates
        unpack = FOLD.unpack
        for tid, raw in self.numbers.items():
            first, last, count, ttl_min, ttl_max = unpack(raw)
            if ttl_max == NO_TTL:
                yield templates[tid], first, last, count, None, None
            else:
                yield templates[tid], first, last, count, ttl_min, ttl_max
        self.numbers.clear()
        templates.clear()


FOLD_SHAPES: dict[str, Shape] = {"Fold": by_name(Fold.__slots__), "FoldNumbers": FOLD_FIELDS, "FoldEntry": ENTRY_FIELDS}
# the C fold when it is built and agrees on these shapes, else None (fold_rrsets runs: same results)
_fold_c: Callable[[Fold, Entries, tuple[int, ...], bytes, int], None] | None = c_helper("fold", FOLD_SHAPES)


def fold_layout(fold: Fold, entries: Entries, layout: Layout, msg: bytes, sec: int) -> None:
    """``fold_rrsets`` for message ``msg``, its answer TTLs read at ``layout``'s offsets (in C when built)."""
    if _fold_c is None:
        fold_rrsets(fold, entries, layout.ttls(msg, 0), sec)
    else:
        _fold_c(fold, entries, layout.answer_ttls, msg, sec)


def fold_rrsets(fold: Fold, entries: Entries, ttls: Sequence[int], sec: int) -> None:
    """Fold one response's RRsets (templates and their answer RR indices) seen at ``sec`` with answer ``ttls``.

    An RRset's TTL is the smallest of its RRs', each with the top bit set counting as 0 (RFC 2181 section 8).
    """
    numbers = fold.numbers
    for tid, template, indices in entries:
        ttl = NO_TTL
        if indices:
            ttl = ttls[indices[0]]
            if len(indices) > 1:
                picked = [ttls[i] for i in indices]
                ttl = 0 if max(picked) > _TTL_MAX else min(picked)
            elif ttl > _TTL_MAX:
                ttl = 0
        raw = numbers.get(tid)
        if raw is None:
            numbers[tid] = bytearray(FOLD.pack(sec, sec, 1, ttl, ttl))
            fold.templates[tid] = template
            continue
        first, last, count, ttl_min, ttl_max = FOLD.unpack(raw)
        if ttl < ttl_min:
            ttl_min = ttl
        elif ttl > ttl_max:
            ttl_max = ttl
        if sec > last:
            last = sec
        elif sec < first:
            first = sec
        FOLD.pack_into(raw, 0, first, last, count + 1, ttl_min, ttl_max)


def entries_of(templates: Iterable[tuple[Observation, tuple[int, ...]]]) -> Entries:
    """``ObservationBuilder.templates`` as fold entries (``ENTRY_FIELDS``)."""
    return tuple([(id(template), template, indices) for template, indices in templates])
