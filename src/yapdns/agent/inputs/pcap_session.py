"""DNS transactions on the wire: queries matched to responses, then observations.

Spoof protection as gamelinux passivedns has it, made stricter: a response
is used only if an earlier query went from its destination address and port
to its source address and port with the same transaction id and the same
question (compared case-insensitively). Unmatched ("unsolicited") responses
are counted and dropped, unless ``keep_unsolicited``. The query table is
bounded (``max_pending_queries``; the oldest query goes first) and a query
expires after ``query_timeout`` seconds of capture time.

Speed (docs/performance.md): a query costs a dict insert keyed on raw bytes
(addresses, ports, id, question); a response is decoded (``agent.dnsmsg``)
only once matched, and a response identical to one seen recently apart
from its id, its TTLs and its additional section reuses that decoding
(``dnsmsg.response_shape``). Identical sightings within one read batch
are folded into one observation with ``count``, ``time_first`` and
``time_last`` (as the agent's aggregator would). Truncated (TC) responses are
skipped: the TCP retry carries the whole answer.

Privacy by default: no client address is ever put in an observation. With
``server_in_sensor_id`` the responding server's address becomes part of the
sensor id (``<sensor_id>@<address>``), and only then.
"""

from __future__ import annotations

import collections
import socket
import struct
from typing import Any

import msgspec

from yapdns.agent.dnsmsg import OPCODE_MASK, TC
from yapdns.agent.dnsobs import ObservationBuilder, ResponseCache, rrset_ttl
from yapdns.agent.inputs.pcap_answers import AnswerLayouts
from yapdns.agent.inputs.pcap_packet import TCP, PacketDecoder
from yapdns.agent.inputs.pcap_tcp import TcpReassembler
from yapdns.agent.parsing import ParseStats
from yapdns.core.model import Observation
from yapdns.core.normalize import MAX_TIME

_CACHE_MAX = 50_000
_HH = struct.Struct("!HH")
_replace = msgspec.structs.replace


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
        self.queries: dict[bytes, float] = {}
        self.responses = ResponseCache(self.builder, _CACHE_MAX)  # for what ``answers`` cannot cache
        self.answers = AnswerLayouts(self.builder, stats)
        self._fold: dict[tuple[int, int | None], list[Any]] = {}  # (id, ttl) -> [first, last, count, template, ttl]
        self._sensors: dict[bytes, str] = {}

    def packet(self, linktype: int, now: float, data: bytes) -> None:
        """Process one captured packet (``now``: its capture time, UTC epoch seconds): the general path."""
        self.stats.lines += 1
        seg = self.packets.decode(linktype, data, now)
        if seg is None:
            return
        proto, src, dst, sport, dport, seq, flags, payload = seg
        if sport not in self.ports and dport not in self.ports:
            self.counters["other_ports"] += 1
            return
        if proto != TCP:
            self.message(src, dst, _HH.pack(sport, dport), payload, now)
            return
        for msg in self.tcp.segment((src, sport, dst, dport), seq, flags, payload, now):
            self.message(src, dst, _HH.pack(sport, dport), msg, now)

    def message(self, src: bytes, dst: bytes, ports: bytes, msg: bytes, now: float) -> None:
        """Process one DNS message sent from ``src`` to ``dst`` (``ports``: source and destination, packed)."""
        end = msg.find(0, 12) + 5  # the question: first name (up to its root byte), type, class
        if len(msg) < 17 or end < 17 or end > len(msg) or msg[4:6] != b"\x00\x01" or (msg[2] << 8) & OPCODE_MASK:
            self.counters["not_a_query_or_response"] += 1
            return
        tail = msg[:2] + msg[12:end].lower()
        if not msg[2] & 0x80:
            self.query(src + dst + ports + tail, now)
        elif self.queries.pop(dst + src + ports[2:] + ports[:2] + tail, None) is not None:
            self.response(src, msg, now)
        else:
            self.counters["unsolicited_responses"] += 1
            if self.options.keep_unsolicited:
                self.response(src, msg, now)

    def query(self, key: bytes, now: float) -> None:
        """Remember a query (key: client, server, ports, id, lowercased question)."""
        queries = self.queries
        if queries.pop(key, None) is None and len(queries) >= self.options.max_pending_queries:
            del queries[next(iter(queries))]
            self.counters["queries_evicted"] += 1
        queries[key] = now

    def response(self, server: bytes, msg: bytes, now: float) -> None:
        """Use a matched response: fold its observations into the current batch."""
        if msg[2] & (TC >> 8):
            self.counters["truncated_responses"] += 1
            return
        if not self.options.server_in_sensor_id:
            if self.answers.sighting(msg, int(now), self.stats.lines):
                return
            sensor = None
        else:
            sensor = self._sensor(server)
        found = self.responses.get(msg, sensor_id=sensor, ref=self.stats.lines)
        if found is None:
            return
        entries, ttls = found
        sec = int(now)
        fold = self._fold
        for template, indices in entries:
            ttl = rrset_ttl(ttls, indices)
            key = (id(template), ttl)  # the fold holds the template, so its id is not reused meanwhile
            seen = fold.get(key)
            if seen is None:
                fold[key] = [sec, sec, 1, template, ttl]
            else:
                seen[2] += 1
                if sec > seen[1]:
                    seen[1] = sec
                elif sec < seen[0]:
                    seen[0] = sec

    def _sensor(self, server: bytes) -> str:
        name = self._sensors.get(server)
        if name is None:
            family = socket.AF_INET if len(server) == 4 else socket.AF_INET6
            address = socket.inet_ntop(family, server)
            name = f"{self.options.sensor_id}@{address}" if self.options.sensor_id else address
            self._sensors[server] = name
        return name

    def expire(self, now: float) -> None:
        """Forget queries older than the timeout (insertion order is capture order)."""
        limit = now - self.options.query_timeout
        queries = self.queries
        expired = 0
        while queries:
            key = next(iter(queries))
            if queries[key] >= limit:
                break
            del queries[key]
            expired += 1
        self.counters["queries_expired"] += expired

    def take(self) -> list[Observation]:
        """The observations folded since the last call."""
        self.answers.drain(self._fold)
        out = []
        for first, last, count, template, ttl in self._fold.values():
            if 0 <= first <= last <= MAX_TIME:
                out.append(_replace(template, time_first=first, time_last=last, count=count, ttl=ttl))
            else:
                self.stats.bad(self.stats.lines, "bad_time", f"capture time {first} out of range", "")
        self._fold = {}
        self.stats.observations += len(out)
        return out
