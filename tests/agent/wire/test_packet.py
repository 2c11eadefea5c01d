"""wire.packet, wire.tcp and wire.session on the committed BIND 9 capture: fragments, link types, TCP streams,
hostile packets.

These run without BIND or tcpdump installed: the capture was recorded by
``tests/agent/inputs/data/regenerate.py``.
"""

from __future__ import annotations

import collections
import itertools
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.agent.wire.captured import PORT, packets
from tests.agent.wire.wirecheck import rrs_of
from yapdns.agent.parsing import ParseStats
from yapdns.agent.wire.packet import DLT_EN10MB, DLT_LINUX_SLL, DLT_NULL, DLT_RAW
from yapdns.agent.wire.session import CaptureOptions, DnsCaptureProcessor
from yapdns.agent.wire.tcp import TcpReassembler


def _processor() -> tuple[DnsCaptureProcessor, collections.Counter[str]]:
    counters: collections.Counter[str] = collections.Counter()
    return DnsCaptureProcessor(CaptureOptions(ports=[PORT]), ParseStats(), counters, "pcap"), counters


def _observe(frames: list[tuple[int, bytes]]) -> tuple[set[tuple[str, str, str]], collections.Counter[str]]:
    proc, counters = _processor()
    for i, (linktype, frame) in enumerate(frames):
        proc.packet(linktype, 1_700_000_000 + i / 1000, frame)
    return rrs_of(proc.take()), counters


def _udp_v4(packet: bytes) -> bool:
    return packet[12:14] == b"\x08\x00" and packet[23] == 17


def _fragment_v4(packet: bytes, size: int) -> list[bytes]:
    """Split an Ethernet+IPv4 packet into IPv4 fragments of ``size`` payload bytes (RFC 791 §3.2)."""
    eth, ip = packet[:14], packet[14:]
    ihl = (ip[0] & 15) * 4
    header, payload = bytearray(ip[:ihl]), ip[ihl:]
    out = []
    for off in range(0, len(payload), size):
        chunk = payload[off : off + size]
        more = off + size < len(payload)
        struct.pack_into("!HHH", header, 2, ihl + len(chunk), 0xBEEF, (0x2000 if more else 0) | off // 8)
        out.append(eth + bytes(header) + chunk)
    return out


def test_ipv4_fragments_are_reassembled() -> None:
    frames = [p for p in packets() if _udp_v4(p)]
    whole, _ = _observe([(DLT_EN10MB, p) for p in frames])
    pieces = [(DLT_EN10MB, f) for p in frames for f in reversed(_fragment_v4(p, 24))]  # out of order, too
    assert len(pieces) > 2 * len(frames)
    got, counters = _observe(pieces)
    assert got == whole and len(whole) > 5
    assert counters["datagrams_reassembled"] > 0


def test_overlapping_fragments_drop_the_datagram() -> None:
    frames = [p for p in packets() if _udp_v4(p)]
    pieces = []
    for p in frames:
        parts = _fragment_v4(p, 24)
        clash = parts[0][:-8] + b"\x00" * 8  # the first fragment again, its last 8 bytes rewritten
        pieces += [(DLT_EN10MB, parts[0]), (DLT_EN10MB, clash), *[(DLT_EN10MB, x) for x in parts[1:]]]
    got, counters = _observe(pieces)
    assert counters["fragments_dropped"] > 0
    assert len(got) < len(_observe([(DLT_EN10MB, p) for p in frames])[0])


def test_other_link_types_give_the_same_answers() -> None:
    frames = [p for p in packets() if p[12:14] in (b"\x08\x00", b"\x86\xdd")]
    eth, _ = _observe([(DLT_EN10MB, p) for p in frames])
    raw, _ = _observe([(DLT_RAW, p[14:]) for p in frames])
    null, _ = _observe([(DLT_NULL, struct.pack("=I", 2 if p[12] == 8 else 10) + p[14:]) for p in frames])
    sll, _ = _observe([(DLT_LINUX_SLL, b"\x00\x00\x03\x04\x00\x06" + b"\x00" * 8 + p[12:]) for p in frames])
    vlan, _ = _observe([(DLT_EN10MB, p[:12] + b"\x81\x00\x00\x2a" + p[12:]) for p in frames])
    assert eth == raw == null == sll == vlan and len(eth) > 20


def _tcp_dns_messages() -> list[bytes]:
    """The DNS messages BIND sent over TCP in the capture (reassembled from the real segments)."""
    out = []
    tcp = TcpReassembler(collections.Counter())
    for p in packets():
        if p[12:14] == b"\x08\x00" and p[23] == 6:
            ip = 14
            seg = p[ip + (p[ip] & 15) * 4 :]
            sport, dport, seq = struct.unpack_from("!HHI", seg)
            if sport == PORT:
                out += tcp.segment((p[26:30], sport, p[30:34], dport), seq, seg[13], seg[(seg[12] >> 4) * 4 :], 0.0)
    return out


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_tcp_stream_reassembly_survives_any_segmentation(data: st.DataObject) -> None:
    messages = _tcp_dns_messages()
    assert len(messages) >= 3
    stream = b"".join(struct.pack("!H", len(m)) + m for m in messages)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(stream) - 1), max_size=20))))
    bounds = [0, *cuts, len(stream)]
    segments = [(a, stream[a:b]) for a, b in itertools.pairwise(bounds)]
    order = data.draw(st.permutations(segments))
    dupes = data.draw(st.lists(st.sampled_from(segments), max_size=3))
    tcp = TcpReassembler(collections.Counter())
    key = (b"\x7f\x00\x00\x01", 53, b"\x7f\x00\x00\x01", 40000)
    isn = data.draw(st.integers(0, 2**32 - 1))  # sequence numbers may wrap
    got = tcp.segment(key, isn, 0x02, b"", 0.0)
    for off, seg in [*order, *dupes]:
        got += tcp.segment(key, (isn + 1 + off) & 0xFFFFFFFF, 0x18, seg, 0.0)
    assert got == messages


@pytest.mark.parametrize("linktype", [DLT_EN10MB, DLT_RAW, DLT_NULL, DLT_LINUX_SLL, 276, 999])
@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_arbitrary_packets_never_escape(linktype: int, data: bytes) -> None:
    proc, _ = _processor()
    proc.packet(linktype, 1_700_000_000.0, data)
    proc.take()


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_real_packets_never_escape(data: st.DataObject) -> None:
    from yapdns.agent.wire.batchloop import process_batch

    originals = packets()
    proc, _ = _processor()
    chosen = data.draw(st.lists(st.sampled_from(originals), min_size=1, max_size=10))
    blob, meta = b"", b""
    for p in chosen:
        wire = bytearray(p)
        for _ in range(data.draw(st.integers(0, 6))):
            wire[data.draw(st.integers(0, len(wire) - 1))] = data.draw(st.integers(0, 255))
        wire = wire[: data.draw(st.integers(0, len(wire)))]
        meta += struct.pack("=IIII", 1_700_000_000, 0, len(blob), len(wire))
        blob += bytes(wire)
    process_batch(proc, DLT_EN10MB, blob, meta)
    proc.take()
