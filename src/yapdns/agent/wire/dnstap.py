"""One dnstap payload (a protobuf ``Dnstap``) to observations.

Only response messages carry answers: AUTH, RESOLVER, CLIENT, FORWARDER,
STUB and TOOL responses (``message_types`` narrows that; a resolver logging
both client and resolver responses sees each answer twice). The time is the
message's ``response_time`` (else ``query_time``), UTC. The sensor id is the
configured one, else the dnstap ``identity``. The bailiwick is
``query_zone`` when the server sent it. The DNS message itself is read by
``wire.message`` and turned into observations by ``wire.observations``.

Everything that is not used is counted in ``counters`` under a reason:
queries, other message types, undecodable protobuf, malformed DNS.
"""

from __future__ import annotations

import collections
import re
import time

import msgspec
from google.protobuf.message import DecodeError

from yapdns.agent.parsing import ParseStats
from yapdns.agent.wire import dnstap_pb2 as pb
from yapdns.agent.wire.message import OPCODE_MASK, TC, DnsFormatError, read_name
from yapdns.agent.wire.observations import ObservationBuilder, ResponseCache, rrset_ttl
from yapdns.core.model import Observation
from yapdns.core.normalize import MAX_TIME

RESPONSE_TYPES = {
    "AUTH_RESPONSE": 2,
    "RESOLVER_RESPONSE": 4,
    "CLIENT_RESPONSE": 6,
    "FORWARDER_RESPONSE": 8,
    "STUB_RESPONSE": 10,
    "TOOL_RESPONSE": 12,
}
_replace = msgspec.structs.replace
_BAD_LABEL_CHARS = re.compile(r"[^A-Za-z0-9._:@/-]")


class DnstapDecoder:
    """Decodes dnstap payloads of one input into normalized observations."""

    def __init__(
        self,
        stats: ParseStats,
        counters: collections.Counter[str],
        sensor_id: str | None = None,
        message_types: list[str] | None = None,
        source: str = "dnstap",
    ) -> None:
        self.stats = stats
        self.counters = counters
        self.fixed_sensor = sensor_id
        self.types = frozenset(RESPONSE_TYPES[name] for name in (message_types or RESPONSE_TYPES))
        self.builder = ObservationBuilder(source, stats, sensor_id)
        self.responses = ResponseCache(self.builder)
        self._identities: dict[bytes, str | None] = {}

    def decode(self, payload: bytes, ref: int = 0) -> list[Observation]:
        """Observations carried by one data frame; never raises."""
        self.stats.lines += 1
        top = pb.Dnstap()
        try:
            top.ParseFromString(payload)
        except DecodeError as exc:
            self.stats.bad(ref, "bad_protobuf", str(exc), payload[:64].hex())
            return []
        if top.type != pb.Dnstap.MESSAGE or not top.HasField("message"):
            self.counters["not_a_message"] += 1
            return []
        msg = top.message
        if msg.type not in self.types:
            self.counters["skipped_message_type"] += 1
            return []
        if not msg.response_message:
            self.stats.bad(ref, "no_response_message", "response without its DNS message", "")
            return []
        return self._observations(top, msg, ref)

    def _observations(self, top: pb.Dnstap, msg: pb.Message, ref: int) -> list[Observation]:
        wire = msg.response_message
        if len(wire) < 12 or not wire[2] & 0x80 or (wire[2] << 8) & OPCODE_MASK:
            self.counters["not_a_query_response"] += 1
            return []
        if wire[2] & (TC >> 8):
            self.counters["truncated_response"] += 1
            return []
        try:
            zone = read_name(msg.query_zone, 0)[0] if msg.HasField("query_zone") else None
        except DnsFormatError as exc:
            self.stats.bad(ref, exc.code, f"query_zone: {exc}", msg.query_zone[:64].hex())
            return []
        sensor = self.fixed_sensor or self._identity(top.identity)
        found = self.responses.get(wire, sensor_id=sensor, bailiwick=zone, ref=ref)
        if found is None:
            return []
        when = self._when(msg)
        if not 0 <= when <= MAX_TIME:
            self.stats.bad(ref, "bad_time", f"time {when} out of range", "")
            return []
        entries, ttls = found
        out = [_replace(o, time_first=when, time_last=when, ttl=rrset_ttl(ttls, idx)) for o, idx in entries]
        self.stats.observations += len(out)
        return out

    def _when(self, msg: pb.Message) -> int:
        if msg.HasField("response_time_sec"):
            return msg.response_time_sec
        if msg.HasField("query_time_sec"):
            return msg.query_time_sec
        self.counters["no_timestamp"] += 1
        return int(time.time())

    def _identity(self, raw: bytes) -> str | None:
        """The dnstap identity as a sensor id (printable token), cached per distinct value."""
        if raw not in self._identities:
            text = _BAD_LABEL_CHARS.sub("_", raw.decode("utf-8", "replace"))[:128].lstrip("._:@/-")
            if len(self._identities) > 1000:
                self._identities.clear()
            self._identities[raw] = text or None
        return self._identities[raw]
