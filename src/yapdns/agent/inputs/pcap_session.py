"""DNS transactions on the wire: queries matched to responses, then observations.

Spoof protection as gamelinux passivedns has it, made stricter: a response
is used only if an earlier query went from its destination address and port
to its source address and port with the same transaction id and the same
question (compared case-insensitively). Unmatched ("unsolicited") responses
are counted and dropped, unless ``keep_unsolicited``. The query table is
bounded (``max_pending_queries``; the oldest query goes first) and a query
expires after ``query_timeout`` seconds of capture time.

Queries are only looked at as far as their question; responses are decoded
(``agent.dnsmsg``) only once matched, and a response identical to one seen
recently (apart from its id) is not decoded again. Truncated (TC) responses
are skipped: the TCP retry carries the whole answer.

Privacy by default: no client address is ever put in an observation. With
``server_in_sensor_id`` the responding server's address becomes part of the
sensor id (``<sensor_id>@<address>``), and only then.
"""

from __future__ import annotations

import collections
import socket

import msgspec

from yapdns.agent.dnsmsg import OPCODE_MASK, TC, DnsFormatError, DnsResponse, decode_response, question_end
from yapdns.agent.dnsobs import ObservationBuilder
from yapdns.agent.inputs.pcap_packet import TCP, PacketDecoder
from yapdns.agent.inputs.pcap_tcp import TcpReassembler
from yapdns.agent.parsing import ParseStats
from yapdns.core.model import Observation

_CACHE_MAX = 50_000


class CaptureOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings shared by the packet-capture inputs."""

    ports: list[int] = msgspec.field(default_factory=lambda: [53])  # DNS server ports to decode
    sensor_id: str | None = None
    server_in_sensor_id: bool = False  # sensor id "<sensor_id>@<server address>" (opt-in)
    keep_unsolicited: bool = False  # also use responses that match no query (spoofable!)
    query_timeout: float = 30.0
    max_pending_queries: int = 200_000
    max_tcp_streams: int = 10_000
    batch_size: int = 500


class DnsCaptureProcessor:
    """Feeds captured packets through decoding, matching and observation building."""

    def __init__(
        self, options: CaptureOptions, stats: ParseStats, counters: collections.Counter[str], source: str
    ) -> None:
        self.options = options
        self.stats = stats
        self.counters = counters
        self.ports = frozenset(options.ports)
        self.packets = PacketDecoder(counters)
        self.tcp = TcpReassembler(counters, max_streams=options.max_tcp_streams)
        self.builder = ObservationBuilder(source, stats, options.sensor_id)
        self.pending: list[Observation] = []
        self._queries: dict[tuple[bytes, int, bytes, int, bytes], float] = {}
        self._responses: dict[bytes, DnsResponse] = {}
        self._sensors: dict[bytes, str] = {}
        self._expire_at = 0.0

    def packet(self, linktype: int, now: float, data: bytes) -> None:
        """Process one captured packet (``now``: its capture time, UTC epoch seconds)."""
        self.stats.lines += 1
        seg = self.packets.decode(linktype, data, now)
        if seg is None:
            return
        proto, src, dst, sport, dport, seq, flags, payload = seg
        if sport not in self.ports and dport not in self.ports:
            self.counters["other_ports"] += 1
            return
        if proto != TCP:
            self.message(src, sport, dst, dport, payload, now)
            return
        for msg in self.tcp.segment((src, sport, dst, dport), seq, flags, payload, now):
            self.message(src, sport, dst, dport, msg, now)

    def message(self, src: bytes, sport: int, dst: bytes, dport: int, msg: bytes, now: float) -> None:  # noqa: PLR0917
        """Process one DNS message sent from ``src:sport`` to ``dst:dport``."""
        if now >= self._expire_at:
            self._expire(now)
        if len(msg) < 12 or msg[4:6] != b"\x00\x01" or (msg[2] << 8) & OPCODE_MASK:
            self.counters["not_a_query_or_response"] += 1
            return
        try:
            question = msg[12 : question_end(msg)].lower()
        except DnsFormatError as exc:
            self.stats.bad(self.stats.lines, exc.code, str(exc), msg[:64].hex())
            return
        if not msg[2] & 0x80:
            self._query((src, sport, dst, dport, msg[:2] + question), now)
        elif self._queries.pop((dst, dport, src, sport, msg[:2] + question), None) is not None:
            self._response(src, msg, now)
        else:
            self.counters["unsolicited_responses"] += 1
            if self.options.keep_unsolicited:
                self._response(src, msg, now)

    def _query(self, key: tuple[bytes, int, bytes, int, bytes], now: float) -> None:
        queries = self._queries
        self.counters["queries"] += 1
        if queries.pop(key, None) is None and len(queries) >= self.options.max_pending_queries:
            queries.pop(next(iter(queries)))
            self.counters["queries_evicted"] += 1
        queries[key] = now

    def _response(self, server: bytes, msg: bytes, now: float) -> None:
        self.counters["responses"] += 1
        if msg[2] & (TC >> 8):
            self.counters["truncated_responses"] += 1
            return
        body = msg[2:]
        resp = self._responses.get(body)
        if resp is None:
            try:
                resp = decode_response(msg)
            except DnsFormatError as exc:
                self.stats.bad(self.stats.lines, exc.code, str(exc), msg[:64].hex())
                return
            if len(self._responses) >= _CACHE_MAX:
                self._responses.clear()
            self._responses[body] = resp
        sensor = self._sensor(server) if self.options.server_in_sensor_id else None
        self.pending += self.builder.observations(resp, int(now), sensor_id=sensor, ref=self.stats.lines)

    def _sensor(self, server: bytes) -> str:
        name = self._sensors.get(server)
        if name is None:
            family = socket.AF_INET if len(server) == 4 else socket.AF_INET6
            address = socket.inet_ntop(family, server)
            name = f"{self.options.sensor_id}@{address}" if self.options.sensor_id else address
            self._sensors[server] = name
        return name

    def _expire(self, now: float) -> None:
        """Forget queries older than the timeout (insertion order is capture order)."""
        limit = now - self.options.query_timeout
        queries = self._queries
        while queries:
            key = next(iter(queries))
            if queries[key] >= limit:
                break
            del queries[key]
            self.counters["queries_expired"] += 1
        self._expire_at = now + 1.0

    def take(self) -> list[Observation]:
        """The observations produced since the last call."""
        out, self.pending = self.pending, []
        return out
