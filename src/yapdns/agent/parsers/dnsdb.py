"""DNSDB exports: API v2 SAF streams, API v1 / plain NDJSON, ``dnsdbq -j`` output.

Each result object is one DNSDB record::

    {"count": N, "time_first": t, "time_last": t, "rrname": "name.", "rrtype": "A",
     "bailiwick": "zone.", "rdata": ["1.2.3.4", ...]}

* rrset rows carry ``rdata`` as an array: one RRset observation (bailiwick
  kept); rdata rows carry it as a string: one RR;
* ``time_first``/``time_last`` (seen by DNSDB's sensors) and
  ``zone_time_first``/``zone_time_last`` (seen in zone files) are kept apart:
  a zone-only row becomes a zone-only observation, a row with both pairs
  carries both (``core/windows.py``);
* API v2 wraps results in SAF lines: ``{"obj": {...}}`` holds a result,
  ``{"cond": "begin"|"ongoing"|"succeeded"|"limited"}`` and ``{}``
  (keep-alive) carry none, ``{"cond": "failed", "msg": ...}`` is reported
  as an error (the stream before it is incomplete);
* objects may also be pretty-printed over several lines (``jq .``); they are
  buffered by brace depth (at most 1 MiB). The lines of an object not yet
  closed travel with the agent's checkpoint (``save_state``); a quiet log
  leaves them waiting for the closing brace.

Evidence ``imported``: each import keeps DNSDB's own first, last and count.
Names keep DNSDB's trailing dots until normalization removes them;
annotations such as ``dnsdbq-rdata`` are ignored.

Time: UTC epoch seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.core.errors import MissingField
from yapdns.core.model import Evidence, Observation
from yapdns.core.windows import sighting_fields

MAX_OBJECT = 1 << 20


class DnsdbResult(msgspec.Struct):
    """One DNSDB result, or one SAF line holding it in ``obj``."""

    rrname: str | None = None
    rrtype: str | None = None
    rdata: str | list[str] | None = None
    bailiwick: str | None = None
    count: int = 1
    time_first: int | None = None
    time_last: int | None = None
    zone_time_first: int | None = None
    zone_time_last: int | None = None
    obj: DnsdbResult | None = None
    cond: str | None = None
    msg: str | None = None


_decode = msgspec.json.Decoder(DnsdbResult).decode


class DnsdbParser(LineParser):
    name = "dnsdb"
    evidence = Evidence.IMPORTED
    timezone = "UTC (epoch seconds)"
    description = "DNSDB exports: API v2 SAF, API v1/plain NDJSON, dnsdbq -j (rrset and rdata rows)"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self._buffer: list[str] = []
        self._depth = 0
        self._size = 0

    def parse_line(self, line: str) -> Iterator[Observation]:
        if self._buffer or (line.lstrip().startswith("{") and not line.rstrip().endswith("}")):
            text = self._buffered(line)
            if text is None:
                return
        else:
            text = line.strip()
            if not text:
                return
        yield from self._result(text)

    def flush(self) -> Iterator[Observation]:
        if self._buffer:
            self._buffer, self._depth, self._size = [], 0, 0
            raise ParseError("the input ended inside a JSON object", code="truncated")
        return iter(())

    def save_state(self) -> Any:
        """The lines of a pretty-printed object read so far (``None`` between objects)."""
        return {"lines": list(self._buffer), "depth": self._depth, "size": self._size} if self._buffer else None

    def load_state(self, state: Any) -> None:
        self._buffer, self._depth, self._size = list(state["lines"]), int(state["depth"]), int(state["size"])

    def _buffered(self, line: str) -> str | None:
        """Add a line of a pretty-printed object; the whole object once its braces close."""
        self._buffer.append(line)
        self._depth += _depth(line)
        self._size += len(line)
        if self._size > MAX_OBJECT:
            self._buffer, self._depth, self._size = [], 0, 0
            raise ParseError(f"a JSON object longer than {MAX_OBJECT} characters", code="too_long")
        if self._depth > 0:
            return None
        text = "\n".join(self._buffer)
        self._buffer, self._depth, self._size = [], 0, 0
        return text

    def _result(self, text: str) -> Iterator[Observation]:
        try:
            row = _decode(text)
        except (msgspec.DecodeError, UnicodeEncodeError) as exc:  # bad JSON, or undecodable bytes
            raise ParseError(f"not a DNSDB JSON object: {exc}", code="bad_json") from None
        if row.obj is not None:
            row = row.obj
        elif row.cond is not None or row.rrname is None:
            if row.cond == "failed":
                raise ParseError(f"DNSDB reported a failed query: {row.msg or ''}"[:200], code="saf_failed")
            return  # begin / ongoing / succeeded / limited / keep-alive
        yield self._observation(row)

    def _observation(self, row: DnsdbResult) -> Observation:
        if not row.rrname or not row.rrtype or row.rdata is None:
            raise ParseError("a DNSDB result needs rrname, rrtype and rdata", code="missing_field")
        try:
            times = sighting_fields(row.time_first, row.time_last, row.zone_time_first, row.zone_time_last)
        except MissingField:
            raise ParseError("a DNSDB result needs time_first/time_last or zone_time_*", code="missing_field") from None
        rdata = (row.rdata,) if isinstance(row.rdata, str) else tuple(row.rdata)
        if not rdata:
            raise ParseError("empty rdata", code="missing_field")
        return Observation(
            rrname=row.rrname,
            rrtype=row.rrtype,
            rdata=rdata,
            **times,
            count=row.count,
            bailiwick=row.bailiwick,
            source=self.name,
            evidence=self.evidence,
        )


def _depth(line: str) -> int:
    """The change of brace depth over ``line``, ignoring braces inside JSON strings."""
    depth, quoted, escaped = 0, False, False
    for ch in line:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = quoted
        elif ch == '"':
            quoted = not quoted
        elif not quoted and ch in "{}":
            depth += 1 if ch == "{" else -1
    return depth


PARSER = DnsdbParser
