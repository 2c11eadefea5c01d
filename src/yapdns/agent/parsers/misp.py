"""MISP events (JSON) that carry ``passive-dns`` objects: one observation per object, with its times and count.

The reading is ``exchange/misp.py`` (shared with the server's evidence
upload): the PyMISP template check, the times, and how bad objects are
rejected alone. Evidence ``imported``; the sub-sensor is ``misp``
(``yapdns import -F misp`` stores under ``import/misp``).

Time: MISP ``datetime`` attributes (ISO 8601, UTC unless they say otherwise);
kept to the second.
"""

from __future__ import annotations

from collections.abc import Iterator

from yapdns.agent.parsers.base import DocumentParser, ParseError
from yapdns.core.model import Evidence, Observation
from yapdns.exchange import misp
from yapdns.exchange.errors import BadDocument

SUB_SENSOR = "misp"


class MispParser(DocumentParser):
    name = "misp"
    evidence = Evidence.IMPORTED
    timezone = "UTC (MISP datetime attributes)"
    description = "MISP events (JSON) with passive-dns objects: rrname, rrtype, rdata, count, first/last seen"

    def parse_document(self, data: bytes) -> Iterator[Observation]:
        try:
            yield from misp.read_resolutions(data, self.reject, self.options.sensor_id or SUB_SENSOR)
        except BadDocument as exc:
            raise ParseError(str(exc), exc.code) from None


PARSER = MispParser
