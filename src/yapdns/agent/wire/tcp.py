"""DNS over TCP: per-direction stream reassembly and the 2-byte length framing (RFC 1035 §4.2.2).

Segments are put in sequence order (retransmitted bytes are trimmed, a few
out-of-order segments are held), and the byte stream is cut into DNS
messages: several messages in one segment and one message across several
segments both work. A stream first seen mid-way (no SYN) starts at its first
segment. Bounds: ``max_streams`` streams, expired after ``timeout`` seconds
of capture time; at most 64 held segments and two maximal messages of buffer
per stream, beyond which the stream is reset and counted.
"""

from __future__ import annotations

import collections

SYN, FIN, RST = 0x02, 0x01, 0x04
MAX_HELD = 64
MAX_BUFFER = 2 * (65535 + 2)
StreamKey = tuple[bytes, int, bytes, int]


class _Stream:
    __slots__ = ("buf", "held", "last", "next_seq")

    def __init__(self, next_seq: int | None, now: float) -> None:
        self.next_seq = next_seq
        self.buf = bytearray()
        self.held: dict[int, bytes] = {}
        self.last = now


class TcpReassembler:
    """Turns TCP segments into whole DNS messages, per direction of each connection."""

    def __init__(self, counters: collections.Counter[str], timeout: float = 60.0, max_streams: int = 10_000) -> None:
        self.counters = counters
        self.timeout = timeout
        self.max_streams = max_streams
        self._streams: dict[StreamKey, _Stream] = {}

    def segment(self, key: StreamKey, seq: int, flags: int, payload: bytes, now: float) -> list[bytes]:
        """Feed one segment; return the DNS messages it completes."""
        stream = self._streams.get(key)
        if flags & SYN:
            stream = self._new(key, (seq + 1) & 0xFFFFFFFF, now)
        elif stream is None:
            if not payload:
                return []
            stream = self._new(key, seq, now)
        stream.last = now
        if payload:
            self._add(stream, seq, payload)
        messages = self._messages(key, stream)
        if flags & (FIN | RST):
            self._streams.pop(key, None)
        return messages

    def _new(self, key: StreamKey, next_seq: int, now: float) -> _Stream:
        self._expire(now)
        self._streams.pop(key, None)
        if len(self._streams) >= self.max_streams:
            self._streams.pop(next(iter(self._streams)))
            self.counters["tcp_streams_evicted"] += 1
        stream = self._streams[key] = _Stream(next_seq, now)
        return stream

    def _add(self, stream: _Stream, seq: int, payload: bytes) -> None:
        assert stream.next_seq is not None
        ahead = (seq - stream.next_seq) & 0xFFFFFFFF
        if ahead >= 0x80000000:  # starts before what we have: a retransmission, maybe with new bytes
            behind = 0x100000000 - ahead
            if behind >= len(payload):
                return
            payload = payload[behind:]
            ahead = 0
        if ahead:
            if len(stream.held) < MAX_HELD:
                stream.held[seq] = payload
            else:
                self.counters["tcp_segments_dropped"] += 1
            return
        stream.buf += payload
        stream.next_seq = (stream.next_seq + len(payload)) & 0xFFFFFFFF
        while stream.held:
            nxt = stream.held.pop(stream.next_seq, None)
            if nxt is None:
                break
            stream.buf += nxt
            stream.next_seq = (stream.next_seq + len(nxt)) & 0xFFFFFFFF

    def _messages(self, key: StreamKey, stream: _Stream) -> list[bytes]:
        buf = stream.buf
        out: list[bytes] = []
        pos = 0
        while len(buf) - pos >= 2:
            length = (buf[pos] << 8) | buf[pos + 1]
            if len(buf) - pos - 2 < length:
                break
            out.append(bytes(buf[pos + 2 : pos + 2 + length]))
            pos += 2 + length
        if pos:
            del buf[:pos]
        if len(buf) > MAX_BUFFER:
            self.counters["tcp_stream_reset"] += 1
            self._streams.pop(key, None)
        return out

    def _expire(self, now: float) -> None:
        while self._streams:
            key = next(iter(self._streams))
            if self._streams[key].last >= now - self.timeout:
                return
            del self._streams[key]
            self.counters["tcp_streams_expired"] += 1
