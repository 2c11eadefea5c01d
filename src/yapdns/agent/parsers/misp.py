"""MISP events (JSON) that carry ``passive-dns`` objects: one observation per object, with its times and count.

The reading is ``exchange/misp.py`` (shared with the server's evidence
upload): the PyMISP template check, the times, and how bad objects are
rejected alone. Evidence ``imported``; the sub-sensor is ``misp``
(``yapdns import -F misp`` stores under ``import/misp``).

Time: MISP ``datetime`` attributes (ISO 8601, UTC unless they say otherwise);
kept to the second.
"""

from __future__ import annotations

from yapdns.agent.parsers._exchange import ExchangeParser


class MispParser(ExchangeParser):
    name = "misp"
    timezone = "UTC (MISP datetime attributes)"
    description = "MISP events (JSON) with passive-dns objects: rrname, rrtype, rdata, count, first/last seen"


PARSER = MispParser
