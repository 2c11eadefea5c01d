"""STIX 2.1 bundles that carry DNS resolutions: ``domain-name`` resolves-to an address or name, with times.

The reading is ``exchange/stix.py`` (shared with the server's evidence
upload): what counts as a resolution, its times, and how bad objects are
rejected alone. A bundle that is not JSON or not a bundle is refused whole.
Evidence ``imported``; the sub-sensor is ``stix`` (``yapdns import -F stix``
stores under ``import/stix``).

Time: STIX timestamps are UTC; kept to the second (fractions dropped).
"""

from __future__ import annotations

from collections.abc import Iterator

from yapdns.agent.parsers.base import DocumentParser, ParseError
from yapdns.core.model import Evidence, Observation
from yapdns.exchange import stix
from yapdns.exchange.errors import BadDocument

SUB_SENSOR = "stix"


class StixParser(DocumentParser):
    name = "stix"
    evidence = Evidence.IMPORTED
    timezone = "UTC (STIX timestamps)"
    description = "STIX 2.1 bundles: domain-name resolves-to ipv4/ipv6-addr or domain-name, with observed times"

    def parse_document(self, data: bytes) -> Iterator[Observation]:
        try:
            yield from stix.read_resolutions(data, self.reject, self.options.sensor_id or SUB_SENSOR)
        except BadDocument as exc:
            raise ParseError(str(exc), exc.code) from None


PARSER = StixParser
