"""The hot loop of packet capture: a batch of packets through the common case, in one function.

Most DNS packets on a wire are Ethernet + IPv4 (no options, not fragmented)
or Ethernet + IPv6 (no extension headers) + UDP. For those, one
``struct.unpack_from`` reads every header field needed and the query key is
cut out of the packet bytes directly; everything else (VLANs, other link
types, IP options, fragments, TCP, odd packets) takes the general path
``DnsCaptureProcessor.packet``, which gives the same result. The function is
long on purpose: a call per layer would double the cost per packet.
"""

from __future__ import annotations

import struct

from yapdns.agent.inputs.pcap_packet import DLT_EN10MB
from yapdns.agent.inputs.pcap_session import DnsCaptureProcessor

_META = struct.Struct("=IIII")
# Ethernet + IPv4 (IHL 5) + UDP + DNS header: ethertype, version/IHL, fragment, protocol, ports, DNS flags, QDCOUNT
_V4 = struct.Struct("!12xHB5xHxB10xHH6xHH")
# Ethernet + IPv6 + UDP + DNS header: ethertype, next header, ports, DNS flags, QDCOUNT
_V6 = struct.Struct("!12xH6xB33xHH6xHH")
_OPCODE = 0x7800


def process_batch(proc: DnsCaptureProcessor, linktype: int, data: bytes, meta: bytes) -> None:  # noqa: PLR0912, PLR0915
    """Process a batch as returned by pcapy's ``next_batch``: packets and their (sec, usec, offset, caplen)."""
    if linktype != DLT_EN10MB:
        for sec, usec, off, caplen in _META.iter_unpack(meta):
            proc.packet(linktype, sec + usec / 1e6, data[off : off + caplen])
        return
    ports = proc.ports
    queries = proc.queries
    query, response, general = proc.query, proc.response, proc.packet
    keep = proc.options.keep_unsolicited
    unsolicited = other = n = 0
    unpack4, unpack6 = _V4.unpack_from, _V6.unpack_from
    for sec, usec, off, caplen in _META.iter_unpack(meta):
        pkt = data[off : off + caplen]
        now = sec + usec / 1e6
        if caplen >= 59 and pkt[12] == 0x08:
            ethertype, verihl, frag, proto, sport, dport, flags, qdcount = unpack4(pkt)
            if ethertype != 0x0800 or verihl != 0x45 or frag & 0x3FFF or proto != 17:
                general(linktype, now, pkt)
                continue
            n += 1
            if sport not in ports and dport not in ports:
                other += 1
                continue
            end = pkt.find(0, 54) + 5
            if end < 59 or qdcount != 1 or flags & _OPCODE:
                general(linktype, now, pkt)
                n -= 1
                continue
            tail = pkt[42:44] + pkt[54:end].lower()
            if not flags & 0x8000:
                query(pkt[26:38] + tail, now)
            elif queries.pop(pkt[30:34] + pkt[26:30] + pkt[36:38] + pkt[34:36] + tail, None) is not None:
                response(pkt[26:30], pkt[42:], now)
            else:
                unsolicited += 1
                if keep:
                    response(pkt[26:30], pkt[42:], now)
        elif caplen >= 79 and pkt[12] == 0x86:
            ethertype, nxt, sport, dport, flags, qdcount = unpack6(pkt)
            if ethertype != 0x86DD or nxt != 17:
                general(linktype, now, pkt)
                continue
            n += 1
            if sport not in ports and dport not in ports:
                other += 1
                continue
            end = pkt.find(0, 74) + 5
            if end < 79 or qdcount != 1 or flags & _OPCODE:
                general(linktype, now, pkt)
                n -= 1
                continue
            tail = pkt[62:64] + pkt[74:end].lower()
            if not flags & 0x8000:
                query(pkt[22:58] + tail, now)
            elif queries.pop(pkt[38:54] + pkt[22:38] + pkt[56:58] + pkt[54:56] + tail, None) is not None:
                response(pkt[22:38], pkt[62:], now)
            else:
                unsolicited += 1
                if keep:
                    response(pkt[22:38], pkt[62:], now)
        else:
            general(linktype, now, pkt)
    proc.stats.lines += n
    proc.counters["unsolicited_responses"] += unsolicited
    proc.counters["other_ports"] += other
