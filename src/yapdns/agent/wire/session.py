"""DNS transactions on the wire: queries matched to responses, then observations.

Spoof protection as gamelinux passivedns has it, made stricter: a response
is used only if an earlier query went from its destination address and port
to its source address and port with the same transaction id and the same
question (compared case-insensitively). Unmatched ("unsolicited") responses
are counted and dropped, unless ``keep_unsolicited``. The query table is
bounded (``max_pending_queries``; the oldest query goes first) and a query
expires after ``query_timeout`` seconds of capture time.

Speed (docs/performance.md): a query costs a dict insert keyed on its
addresses, ports, id and lowercased question; a response is decoded
(``wire.message``) only once matched, and one that repeats an earlier one
apart from its id, its TTLs and its additional section reuses that decoding
(``answers``: layouts by header and question, variants by masked answer
bytes). Sightings of an RRset within one ``take`` window are folded into one
observation with ``count``, ``time_first`` and ``time_last``, two when its
TTL changed (as the agent's aggregator would). Truncated (TC) responses are
skipped: the TCP retry carries the whole answer.

Privacy by default: no client address is ever put in an observation. With
``server_in_sensor_id`` the responding server's address becomes part of the
sensor id (``<sensor_id>@<address>``), and only then.
"""

from __future__ import annotations

import collections
import socket
import struct

import msgspec

from yapdns.agent.parsing import ParseStats
from yapdns.agent.wire.answers import AnswerLayouts
from yapdns.agent.wire.message import OPCODE_MASK, TC
from yapdns.agent.wire.observations import ObservationBuilder
from yapdns.agent.wire.packet import TCP, PacketDecoder
from yapdns.agent.wire.tcp import TcpReassembler
from yapdns.core.model import Observation
from yapdns.core.normalize import MAX_TIME

_H = struct.Struct("!H")
_PORTS_ID = struct.Struct("!HHH")
QueryKey = bytes
"""A pending query (``query_key``): the address length, the client and server address, their ports, the DNS id
and the question (name lowercased, type, class) as on the wire. Bytes, which the cyclic GC does not track."""
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
        self.port_bitmap = port_bitmap(self.ports)
        self.packets = PacketDecoder(counters)
        self.tcp = TcpReassembler(counters, max_streams=options.max_tcp_streams)
        self.builder = ObservationBuilder(source, stats, options.sensor_id)
        self.queries: dict[QueryKey, float] = {}
        self.answers = AnswerLayouts(self.builder, stats)
        self._fold = self.answers.fold
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
            self.message(src, dst, sport, dport, payload, now)
            return
        for msg in self.tcp.segment((src, sport, dst, dport), seq, flags, payload, now):
            self.message(src, dst, sport, dport, msg, now)

    def message(self, src: bytes, dst: bytes, sport: int, dport: int, msg: bytes, now: float) -> None:
        """Process one DNS message sent from ``src``:``sport`` to ``dst``:``dport``."""
        end = msg.find(0, 12) + 5  # the question: first name (up to its root byte), type, class
        if len(msg) < 17 or end < 17 or end > len(msg) or msg[4:6] != b"\x00\x01" or (msg[2] << 8) & OPCODE_MASK:
            self.counters["not_a_query_or_response"] += 1
            return
        txid, question = _H.unpack_from(msg, 0)[0], msg[12:end].lower()
        if not msg[2] & 0x80:
            self.query(query_key(src, dst, sport, dport, txid, question), now)
        elif self.queries.pop(query_key(dst, src, dport, sport, txid, question), None) is not None:
            self.response(src, msg, now)
        else:
            self.counters["unsolicited_responses"] += 1
            if self.options.keep_unsolicited:
                self.response(src, msg, now)

    def query(self, key: QueryKey, now: float) -> None:
        """Remember a query (key: client, server, their ports, id, lowercased question)."""
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
        sensor = self._sensor(server) if self.options.server_in_sensor_id else None
        self.answers.sighting(msg, int(now), self.stats.lines, sensor)

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

    def pending(self) -> int:
        """How many RRsets are folded and not taken yet."""
        return len(self._fold)

    def take(self) -> list[Observation]:
        """The observations folded since the last call.

        An RRset seen with several TTLs gives two observations, as the
        agent's aggregator drains them: the largest TTL with ``count - 1``,
        the smallest with a count of 1 at ``time_first``.
        """
        out = []
        for template, first, last, count, ttl_min, ttl_max in self._fold.drain():
            if not 0 <= first <= last <= MAX_TIME:
                self.stats.bad(self.stats.lines, "bad_time", f"capture time {first} out of range", "")
            elif ttl_min == ttl_max:
                out.append(_replace(template, time_first=first, time_last=last, count=count, ttl=ttl_max))
            else:
                out.append(_replace(template, time_first=first, time_last=last, count=count - 1, ttl=ttl_max))
                out.append(_replace(template, time_first=first, time_last=first, count=1, ttl=ttl_min))
        self.stats.observations += len(out)
        return out


def query_key(client: bytes, server: bytes, cport: int, sport: int, txid: int, question: bytes) -> QueryKey:
    """The query table's key for a query from ``client``:``cport`` to ``server``:``sport`` (question lowercased)."""
    return bytes((len(client),)) + client + server + _PORTS_ID.pack(cport, sport, txid) + question


def port_bitmap(ports: frozenset[int]) -> bytes:
    """One bit per UDP/TCP port, set for the DNS ports (what the C loop tests)."""
    bitmap = bytearray(8192)
    for port in ports:
        bitmap[port >> 3] |= 1 << (port & 7)
    return bytes(bitmap)
