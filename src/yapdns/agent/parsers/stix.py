"""STIX 2.1 bundles that carry DNS resolutions: ``domain-name`` resolves-to an address or name, with times.

The reading is ``exchange/stix.py`` (shared with the server's evidence
upload): what counts as a resolution, its times, and how bad objects are
rejected alone. A bundle that is not JSON or not a bundle is refused whole.
Evidence ``imported``; the sub-sensor is ``stix`` (``yapdns import -F stix``
stores under ``import/stix``).

Time: STIX timestamps are UTC; kept to the second (fractions dropped).
"""

from __future__ import annotations

from yapdns.agent.parsers._exchange import ExchangeParser


class StixParser(ExchangeParser):
    name = "stix"
    timezone = "UTC (STIX timestamps)"
    description = "STIX 2.1 bundles: domain-name resolves-to ipv4/ipv6-addr or domain-name, with observed times"


PARSER = StixParser
