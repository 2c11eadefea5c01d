"""What the ``stix`` and ``misp`` parsers share: a whole document read by ``exchange/`` (the reader the server's
evidence upload uses too), evidence ``imported``, the format's name as sub-sensor, a bad document refused whole."""

from __future__ import annotations

from collections.abc import Iterator

from yapdns.agent.parsers.base import DocumentParser, ParseError
from yapdns.core.model import Evidence, Observation
from yapdns.exchange.errors import BadDocument
from yapdns.exchange.evidence import READERS


class ExchangeParser(DocumentParser):
    """A parser of one exchange format; ``name`` is the format (a key of ``exchange.evidence.READERS``)."""

    evidence = Evidence.IMPORTED

    def parse_document(self, data: bytes) -> Iterator[Observation]:
        try:
            yield from READERS[self.name](data, self.reject, self.options.sensor_id or self.name)
        except BadDocument as exc:
            raise ParseError(str(exc), exc.code) from None
