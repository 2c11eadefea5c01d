"""Link, IP and transport headers of captured packets, down to the DNS payload.

A minimal header parser of our own: the hot path of packet capture is
"find the UDP/TCP payload", and a general packet library builds an object
per layer (a one-off comparison while choosing: dpkt ~10x, scapy ~300x slower per packet).

* Link types: Ethernet (with up to two VLAN tags), Linux cooked v1 and v2,
  raw IP, BSD loopback/null.
* IPv4 (options, padding trimmed to the total length) and IPv6 (hop-by-hop,
  routing, destination-options and AH headers skipped).
* Fragments of both are reassembled in ``FragmentTable``: bounded, expired
  after ``timeout`` seconds of capture time, and a datagram whose fragments
  overlap is dropped whole (overlaps are an evasion trick, not DNS).

``decode`` returns ``(proto, src, dst, sport, dport, tcp_seq, tcp_flags,
payload)`` or None; it never raises (short or odd packets are counted).
"""

from __future__ import annotations

import collections
import struct

UDP = 17
TCP = 6
_V6_SKIP = {0, 43, 60}  # hop-by-hop, routing, destination options
_V6_FRAGMENT = 44
_V6_AH = 51
_ETH_VLAN = {0x8100, 0x88A8, 0x9100}
_AF6 = {10, 24, 28, 30}  # AF_INET6 on Linux and the BSDs (DLT_NULL/LOOP)

DLT_NULL, DLT_EN10MB, DLT_RAW, DLT_RAW_BSD, DLT_LOOP, DLT_RAW_PCAP = 0, 1, 12, 14, 108, 101
DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_IPV4, DLT_IPV6 = 113, 276, 228, 229

_H = struct.Struct("!H")
_HH = struct.Struct("!HH")
_TCP = struct.Struct("!HHIIBB")

Segment = tuple[int, bytes, bytes, int, int, int, int, bytes]


class FragmentTable:
    """Reassembles IPv4 and IPv6 fragments; bounded in datagrams and in time."""

    def __init__(self, counters: collections.Counter[str], timeout: float = 30.0, max_datagrams: int = 4096) -> None:
        self.counters = counters
        self.timeout = timeout
        self.max_datagrams = max_datagrams
        self._parts: dict[tuple[bytes, bytes, int, int], tuple[float, dict[int, bytes], int]] = {}

    def add(self, key: tuple[bytes, bytes, int, int], offset: int, more: bool, data: bytes, now: float) -> bytes | None:
        """Add one fragment; the whole payload once every fragment is in, else None."""
        self._expire(now)
        entry = self._parts.get(key)
        if entry is None:
            if len(self._parts) >= self.max_datagrams:
                self._parts.pop(next(iter(self._parts)))
                self.counters["fragments_evicted"] += 1
            entry = (now, {}, -1)
        first, parts, total = entry
        end = offset + len(data)
        if end > 65535 or any(o < end and offset < o + len(p) for o, p in parts.items()):
            self._parts.pop(key, None)
            self.counters["fragments_dropped"] += 1
            return None
        parts[offset] = data
        if not more:
            total = end
        self._parts[key] = (first, parts, total)
        if total < 0 or sum(map(len, parts.values())) != total:
            return None
        del self._parts[key]
        self.counters["datagrams_reassembled"] += 1
        return b"".join(parts[o] for o in sorted(parts))

    def _expire(self, now: float) -> None:
        while self._parts:
            key = next(iter(self._parts))
            if self._parts[key][0] >= now - self.timeout:
                return
            del self._parts[key]
            self.counters["fragments_expired"] += 1


class PacketDecoder:
    """Finds the transport payload of a captured packet."""

    def __init__(self, counters: collections.Counter[str], fragment_timeout: float = 30.0) -> None:
        self.counters = counters
        self.fragments = FragmentTable(counters, fragment_timeout)

    def decode(self, linktype: int, data: bytes, now: float) -> Segment | None:
        """The transport segment carried by one packet, or None (not IP, not UDP/TCP, broken)."""
        try:
            net, version = self._network(linktype, data)
            if version == 4:
                return self._ipv4(data, net, now)
            if version == 6:
                return self._ipv6(data, net, now)
        except (IndexError, struct.error):
            self.counters["malformed_packet"] += 1
            return None
        self.counters["not_ip"] += 1
        return None

    def _network(self, linktype: int, data: bytes) -> tuple[int, int]:
        """Offset of the IP header and the IP version (0 when not IP)."""
        if linktype == DLT_EN10MB:
            off, ethertype = 12, _H.unpack_from(data, 12)[0]
            while ethertype in _ETH_VLAN:
                off += 4
                ethertype = _H.unpack_from(data, off)[0]
            return off + 2, _ethertype_version(ethertype)
        if linktype in (DLT_RAW, DLT_RAW_PCAP, DLT_RAW_BSD, DLT_IPV4, DLT_IPV6):
            return 0, data[0] >> 4
        if linktype == DLT_LINUX_SLL:
            return 16, _ethertype_version(_H.unpack_from(data, 14)[0])
        if linktype == DLT_LINUX_SLL2:
            return 20, _ethertype_version(_H.unpack_from(data, 0)[0])
        if linktype in (DLT_NULL, DLT_LOOP):
            family = data[0] or data[3]  # host byte order for NULL, network order for LOOP
            return 4, 4 if family == 2 else 6 if family in _AF6 else 0
        return 0, 0

    def _ipv4(self, data: bytes, off: int, now: float) -> Segment | None:
        ihl = (data[off] & 0x0F) * 4
        total = _H.unpack_from(data, off + 2)[0]
        frag = _H.unpack_from(data, off + 6)[0]
        proto = data[off + 9]
        src, dst = data[off + 12 : off + 16], data[off + 16 : off + 20]
        end = min(len(data), off + total) if total >= ihl else len(data)
        payload = data[off + ihl : end]
        if frag & 0x3FFF:
            ident = _H.unpack_from(data, off + 4)[0]
            whole = self.fragments.add((src, dst, ident, proto), (frag & 0x1FFF) * 8, bool(frag & 0x2000), payload, now)
            if whole is None:
                return None
            payload = whole
        return self._transport(proto, src, dst, payload)

    def _ipv6(self, data: bytes, off: int, now: float) -> Segment | None:
        plen = _H.unpack_from(data, off + 4)[0]
        nxt = data[off + 6]
        src, dst = data[off + 8 : off + 24], data[off + 24 : off + 40]
        payload = data[off + 40 : off + 40 + plen] if plen else data[off + 40 :]
        for _ in range(8):  # a bounded walk over extension headers
            if nxt in _V6_SKIP:
                nxt, payload = payload[0], payload[(payload[1] + 1) * 8 :]
            elif nxt == _V6_AH:
                nxt, payload = payload[0], payload[(payload[1] + 2) * 4 :]
            elif nxt == _V6_FRAGMENT:
                offset_m = _H.unpack_from(payload, 2)[0]
                ident = struct.unpack_from("!I", payload, 4)[0]
                nxt, frag = payload[0], payload[8:]
                whole = self.fragments.add((src, dst, ident, nxt), offset_m & 0xFFF8, bool(offset_m & 1), frag, now)
                if whole is None:
                    return None
                payload = whole
            else:
                break
        return self._transport(nxt, src, dst, payload)

    def _transport(self, proto: int, src: bytes, dst: bytes, seg: bytes) -> Segment | None:
        if proto == UDP:
            sport, dport = _HH.unpack_from(seg, 0)
            ulen = _H.unpack_from(seg, 4)[0]
            return UDP, src, dst, sport, dport, 0, 0, seg[8:ulen] if 8 <= ulen <= len(seg) else seg[8:]
        if proto == TCP:
            sport, dport, seq, _, doff, flags = _TCP.unpack_from(seg, 0)
            return TCP, src, dst, sport, dport, seq, flags, seg[(doff >> 4) * 4 :]
        self.counters["not_udp_tcp"] += 1
        return None


def _ethertype_version(ethertype: int) -> int:
    return 4 if ethertype == 0x0800 else 6 if ethertype == 0x86DD else 0
