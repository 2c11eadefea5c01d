"""COF NDJSON (draft-dulaunoy-dnsop-passive-dns-cof): exports of CIRCL-style pDNS servers.

One JSON object per line with ``rrname rrtype rdata time_first time_last``
and optional ``count bailiwick sensor_id zone_time_first zone_time_last``;
``rdata`` is a string or an array. Times are UTC epoch seconds. Evidence is
``imported``: each import keeps its own first, last and count.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from yapdns.agent.parsers.base import LineParser, ParseError
from yapdns.core.batch import WireObservation, from_wire
from yapdns.core.errors import InvalidObservation
from yapdns.core.model import Evidence, Observation

_decode = msgspec.json.Decoder(WireObservation).decode


class CofParser(LineParser):
    name = "cof"
    evidence = Evidence.IMPORTED
    timezone = "UTC (epoch seconds)"
    description = "COF NDJSON exports (CIRCL pDNS, D4 analyzer, pdns-qof)"

    def parse_line(self, line: str) -> Iterator[Observation]:
        if not line.strip():
            return
        try:
            wire = _decode(line)
        except msgspec.DecodeError as exc:
            raise ParseError(f"not a COF object: {exc}") from None
        except UnicodeError:
            raise ParseError("not valid UTF-8") from None
        try:
            obs = from_wire(wire)
        except InvalidObservation as exc:
            raise ParseError(str(exc), code=exc.code) from None
        yield msgspec.structs.replace(obs, evidence=self.evidence, source=self.name, sensor_id=obs.sensor_id)


PARSER = CofParser
