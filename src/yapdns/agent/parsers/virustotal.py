"""VirusTotal API v3 resolutions (``/domains/{d}/resolutions``, ``/ip_addresses/{ip}/resolutions``).

Reads one saved API response, a JSON document::

    {"data": [{"type": "resolution", "id": "<ip><host>",
               "attributes": {"date": <epoch>, "host_name": "...", "ip_address": "...", "resolver": "..."}}, ...],
     "links": {...}, "meta": {...}}

or several such responses (pages) one per line. Each resolution is one
observation ``host_name → ip_address``: A for an IPv4 address, AAAA for
IPv6 (VirusTotal gives no type), one RR, no TTL. VirusTotal gives a single
``date`` (when it last saw the pairing): ``time_first = time_last = date``,
``count`` 1. Evidence ``imported``. Objects of another ``type`` are
skipped. A resolution whose fields are missing or wrong is handed on as it
is and rejected, with its reason, by normalization (it is counted, and the
other resolutions of the document are kept).

Time: ``date`` is UTC epoch seconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from yapdns.agent.parsers.base import DocumentParser, ParseError
from yapdns.core.model import Evidence, Observation

_MISSING_TIME = -1  # rejected by normalization as out of range: the resolution had no usable date


class VtAttributes(msgspec.Struct):
    date: int | float | None = None
    host_name: str | None = None
    ip_address: str | None = None


class VtObject(msgspec.Struct):
    type: str | None = None
    attributes: VtAttributes | None = None


class VtPage(msgspec.Struct):
    data: list[VtObject] | VtObject


_decode_page = msgspec.json.Decoder(VtPage).decode


class VirustotalParser(DocumentParser):
    name = "virustotal"
    evidence = Evidence.IMPORTED
    timezone = "UTC (epoch seconds)"
    description = "VirusTotal API v3 resolutions responses (JSON document, or one page per line)"

    def parse_document(self, data: bytes) -> Iterator[Observation]:
        for page in _pages(data):
            objects = page.data if isinstance(page.data, list) else [page.data]
            for obj in objects:
                if obj.type in (None, "resolution"):
                    yield self._observation(obj.attributes or VtAttributes())

    def _observation(self, attrs: VtAttributes) -> Observation:
        address = attrs.ip_address or ""
        when = int(attrs.date) if attrs.date is not None else _MISSING_TIME
        return Observation(
            rrname=attrs.host_name or "",
            rrtype="AAAA" if ":" in address else "A",
            rdata=(address,),
            time_first=when,
            time_last=when,
            source=self.name,
            evidence=self.evidence,
        )


def _pages(data: bytes) -> list[VtPage]:
    try:
        return [_decode_page(data)]
    except msgspec.DecodeError as whole:
        lines = [line for line in data.splitlines() if line.strip()]
        if len(lines) < 2:
            raise ParseError(f"not a VirusTotal resolutions response: {whole}", code="bad_json") from None
    try:
        return [_decode_page(line) for line in lines]
    except msgspec.DecodeError as exc:
        raise ParseError(f"not a VirusTotal resolutions response: {exc}", code="bad_json") from None
PARSER = VirustotalParser
