"""The hot loop of packet capture: a batch of packets through the common case, in one function.

``process_batch`` runs the loop in C (``_fastwire.c``, built with the
package) when it is there, and else ``process_batch_python``, which is the
reference: the two give the same results, counters and call order (tests run
both on the same packets, docs/performance.md compares their speed). The C
loop reads what it needs from one ``ScanState`` (``boundary``).

Most DNS packets on a wire are Ethernet + IPv4 (no options, not fragmented)
or Ethernet + IPv6 (no extension headers) + UDP. For those, one
``struct.unpack_from`` on the batch buffer reads every header field needed
(no per-packet copy), the query table is keyed by a tuple of those fields
and the lowercased question, and a matched response whose layout and answer
bytes were seen before (``answers``) is folded without decoding it:
one slice, one ``int.from_bytes`` and one ``struct`` unpack of its TTLs.
Everything else (VLANs, other link types, IP options, fragments, TCP, a
truncated capture, a UDP length that disagrees with the IP length, odd
packets) takes the general path
``DnsCaptureProcessor.packet``, which gives the same result. The function is
long on purpose: a call per layer would double the cost per packet.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from types import ModuleType

from yapdns.agent.wire.answers import FOLD_SHAPES, Fold, Layout, fold_rrsets
from yapdns.agent.wire.boundary import Shape, by_name, c_helper
from yapdns.agent.wire.layout import Walk
from yapdns.agent.wire.packet import DLT_EN10MB
from yapdns.agent.wire.session import DnsCaptureProcessor, QueryKey
from yapdns.gcpause import gc_paused


class ScanState:
    """What the C loop (``_fastwire.scan``) reads for one batch, by name, and the counts it sets.

    One object instead of a dozen positional arguments: C reads each field by its name (``boundary.h``), and
    ``boundary`` checks that both sides name the same fields.
    """

    __slots__ = (
        "fold",
        "general",
        "keep_unsolicited",
        "layouts",
        "linktype",
        "max_pending_queries",
        "other_ports",
        "packets",
        "port_bitmap",
        "queries",
        "query",
        "respond",
        "unsolicited",
    )

    def __init__(self, proc: DnsCaptureProcessor, linktype: int) -> None:
        opts = proc.options
        self.linktype = linktype
        self.port_bitmap = proc.port_bitmap  # one bit per port, set for the DNS ports
        self.queries = proc.queries
        self.max_pending_queries = opts.max_pending_queries
        self.fold: Fold = proc.answers.fold
        self.keep_unsolicited = opts.keep_unsolicited
        self.general: Callable[[int, float, bytes], None] = proc.packet  # any packet the fast path does not take
        self.query: Callable[[QueryKey, float], None] = proc.query  # a query when the query table is full
        # a matched response not seen before: with layouts, C looks it up and walks a new one before it calls back;
        # keyed by server (server_in_sensor_id), layouts are the Python side's (None) and C calls the processor
        self.layouts: dict[bytes, Layout] | None = proc.answers.layouts
        self.respond: Callable[..., None] = proc.answers.learn
        if opts.server_in_sensor_id:
            self.layouts, self.respond = None, proc.response
        self.packets = self.other_ports = self.unsolicited = 0  # set by scan: this batch's counts


SCAN_SHAPES: dict[str, Shape] = {
    "ScanState": by_name(ScanState.__slots__), "Layout": Layout._fields, "Walk": Walk._fields, **FOLD_SHAPES
}
# the C loop when it is built and agrees on these shapes, else None (process_batch_python runs: slower, same results)
_scan: Callable[[ScanState, bytes, bytes], None] | None = c_helper("scan", SCAN_SHAPES)

_META = struct.Struct("=IIII")
# Ethernet + IPv4 (IHL 5) + UDP + DNS header: ethertype, version/IHL, total length, fragment, protocol,
# source and destination address, ports, UDP length, DNS id, flags, QDCOUNT (48 bytes)
_V4 = struct.Struct("!12xHBxH2xHxB2x4s4sHHH2xHHH")
# Ethernet + IPv6 + UDP + DNS header: ethertype, payload length, next header, addresses, ports, UDP length,
# DNS id, flags, QDCOUNT (68 bytes)
_V6 = struct.Struct("!12xH4xHBx16s16sHHH2xHHH")
_PORTS_ID = struct.Struct("!HHH")
_OPCODE_TC = 0x7A00  # opcode (not a standard query) or TC: the general path decides


def implementation() -> str:
    """Which batch loop ``process_batch`` runs: "c" or "python"."""
    return "python" if _scan is None else "c"


def c_helpers() -> list[tuple[ModuleType, str]]:
    """Where each C helper of the wire sensors is bound (module, attribute). Setting them all to None runs the
    Python reference alone, as where they were not built (tests and benchmarks compare the two)."""
    from yapdns.agent.wire import answers, layout, message

    return [(message, "_decode_c"), (layout, "_walk_c"), (answers, "_fold_c"), (sys.modules[__name__], "_scan")]


def process_batch(proc: DnsCaptureProcessor, linktype: int, data: bytes, meta: bytes) -> None:
    """Process a batch as returned by pcapy's ``next_batch``: packets and their (sec, usec, offset, caplen).

    Automatic GC is paused meanwhile (``gcpause``): a batch allocates many templates and layouts,
    and every collection they set off would walk all the layouts and templates already cached.
    """
    with gc_paused():
        if _scan is None or linktype != DLT_EN10MB:
            process_batch_python(proc, linktype, data, meta)
        else:
            _process_batch_c(_scan, proc, linktype, data, meta)


def _process_batch_c(
    scan: Callable[[ScanState, bytes, bytes], None], proc: DnsCaptureProcessor, linktype: int, data: bytes, meta: bytes
) -> None:
    state = ScanState(proc, linktype)
    scan(state, data, meta)
    proc.stats.lines += state.packets
    proc.counters["unsolicited_responses"] += state.unsolicited
    proc.counters["other_ports"] += state.other_ports


def process_batch_python(  # noqa: PLR0912, PLR0915
    proc: DnsCaptureProcessor, linktype: int, data: bytes, meta: bytes
) -> None:
    """``process_batch`` in Python: the reference for the C loop, and the loop where it is not built."""
    if linktype != DLT_EN10MB:
        for sec, usec, off, caplen in _META.iter_unpack(meta):
            proc.packet(linktype, sec + usec / 1e6, data[off : off + caplen])
        return
    ports = proc.ports
    queries = proc.queries
    max_queries = proc.options.max_pending_queries
    general, respond = proc.packet, proc.response
    keep = proc.options.keep_unsolicited
    layouts = proc.answers.layouts if not proc.options.server_in_sensor_id else {}
    fold = proc.answers.fold
    unsolicited = other = n = 0
    unpack4, unpack6, pack = _V4.unpack_from, _V6.unpack_from, _PORTS_ID.pack
    for sec, usec, off, caplen in _META.iter_unpack(meta):
        kind = data[off + 12] if caplen >= 59 else 0
        if kind == 0x08:
            ethertype, verihl, iplen, frag, proto, src, dst, sport, dport, ulen, txid, flags, qdcount = unpack4(
                data, off
            )
            if (
                ethertype != 0x0800
                or verihl != 0x45
                or frag & 0x3FFF
                or proto != 17
                or iplen + 14 > caplen
                or ulen != iplen - 20
            ):
                general(linktype, sec + usec / 1e6, data[off : off + caplen])
                continue
            n += 1
            if sport not in ports and dport not in ports:
                other += 1
                continue
            msg, q, mend, family = off + 42, off + 54, off + 14 + iplen, b"\x04"
        elif kind == 0x86 and caplen >= 79:
            ethertype, iplen, proto, src, dst, sport, dport, ulen, txid, flags, qdcount = unpack6(data, off)
            if ethertype != 0x86DD or proto != 17 or iplen + 54 > caplen or ulen != iplen or not iplen:
                general(linktype, sec + usec / 1e6, data[off : off + caplen])
                continue
            n += 1
            if sport not in ports and dport not in ports:
                other += 1
                continue
            msg, q, mend, family = off + 62, off + 74, off + 54 + iplen, b"\x10"
        else:
            general(linktype, sec + usec / 1e6, data[off : off + caplen])
            continue
        end = data.find(0, q, mend) + 5  # the question: first name (up to its root byte), type, class
        if end < q + 5 or end > mend or qdcount != 1 or flags & _OPCODE_TC:
            general(linktype, sec + usec / 1e6, data[off : off + caplen])
            n -= 1
            continue
        question = data[q:end].lower()
        if not flags & 0x8000:
            key = family + src + dst + pack(sport, dport, txid) + question  # session.query_key
            if len(queries) < max_queries:
                queries.pop(key, None)
                queries[key] = sec + usec / 1e6
            else:
                proc.query(key, sec + usec / 1e6)
            continue
        if queries.pop(family + dst + src + pack(dport, sport, txid) + question, None) is None:
            unsolicited += 1
            if not keep:
                continue
        layout = layouts.get(data[msg + 2 : end])
        if layout is not None:
            last = msg + layout.end
            if last <= mend:
                entries = layout.variants.get(layout.variant(data[end:last]))
                if entries is not None:
                    fold_rrsets(fold, entries, layout.ttls(data, msg), sec)
                    continue
        respond(src, data[msg:mend], sec + usec / 1e6)
    proc.stats.lines += n
    proc.counters["unsolicited_responses"] += unsolicited
    proc.counters["other_ports"] += other
