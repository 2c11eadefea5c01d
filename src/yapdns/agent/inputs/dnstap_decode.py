"""One dnstap payload (a protobuf ``Dnstap``) to observations.

Only response messages carry answers: AUTH, RESOLVER, CLIENT, FORWARDER,
STUB and TOOL responses (``message_types`` narrows that; a resolver logging
both client and resolver responses sees each answer twice). The time is the
message's ``response_time`` (else ``query_time``), UTC. The sensor id is the
configured one, else the dnstap ``identity``. The bailiwick is
``query_zone`` when the server sent it. The DNS message itself is read by
``agent.dnsmsg`` and turned into observations by ``agent.dnsobs``.

Everything that is not used is counted in ``counters`` under a reason:
queries, other message types, undecodable protobuf, malformed DNS.
"""

from __future__ import annotations

import collections
import re
import time

from google.protobuf.message import DecodeError

from yapdns.agent.dnsmsg import OPCODE_MASK, QR, TC, DnsFormatError, decode_response, read_name
from yapdns.agent.dnsobs import ObservationBuilder
from yapdns.agent.inputs import dnstap_pb2 as pb
from yapdns.agent.parsing import ParseStats
from yapdns.core.model import Observation

RESPONSE_TYPES = {
    "AUTH_RESPONSE": 2,
    "RESOLVER_RESPONSE": 4,
    "CLIENT_RESPONSE": 6,
    "FORWARDER_RESPONSE": 8,
    "STUB_RESPONSE": 10,
    "TOOL_RESPONSE": 12,
}
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
        try:
            resp = decode_response(wire)
            zone = read_name(msg.query_zone, 0)[0] if msg.HasField("query_zone") else None
        except DnsFormatError as exc:
            self.stats.bad(ref, exc.code, str(exc), wire[:64].hex())
            return []
        if not resp.flags & QR or resp.flags & OPCODE_MASK:
            self.counters["not_a_query_response"] += 1
            return []
        if resp.flags & TC:
            self.counters["truncated_response"] += 1
            return []
        sensor = self.fixed_sensor or self._identity(top.identity)
        return self.builder.observations(resp, self._when(msg), bailiwick=zone, sensor_id=sensor, ref=ref)

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
