"""CoreDNS ``log`` plugin lines (Common/Combined Log Format), plain or in a container wrapper.

Reads the default format (``plugin/log``)::

    [INFO] <remote>:<port> - <id> "<TYPE> <CLASS> <name> <proto> <size> <do> <bufsize>"
        <RCODE> <rflags> <rsize> <duration>

(``{combined}`` appends ``"<opcode>"``; CoreDNS 1.2 put ``[dd/Mon/yyyy:HH:MM:SS
+zzzz]`` before the id; IPv6 remotes are bracketed), alone, behind a
CoreDNS/``kubectl --timestamps`` RFC 3339 stamp, in a CRI container log
(``<RFC3339> stdout F <line>``) or in a JSON wrapper whose ``message`` or
``log`` field holds the line and whose ``time`` field is the runtime's stamp.

The log plugin never prints answer RRs (CoreDNS's dnstap plugin does): each
line becomes one observation, negative when the rcode is NXDOMAIN,
SERVFAIL, REFUSED..., a bare query when it is NOERROR (data or NODATA: the
log cannot tell) or ``-`` (no response). Evidence ``direct``. Other lines
(plugin messages, start-up banners, custom formats) are skipped; binary
junk is an error.

Time: the line's own stamp (RFC 3339 with its offset, or the CLF stamp with
its offset), else the wrapper's ``time``, else the ``untimed`` option
(``reject`` by default, ``now`` for live tails of bare ``[INFO]`` lines).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import msgspec

from yapdns.agent.parsers._logtime import MONTHS, UntimedPolicy, iso_length, iso_stamp, utc_epoch
from yapdns.agent.parsers._querylog import QueryLogParser
from yapdns.agent.parsers._textline import reject_binary
from yapdns.agent.parsers.base import ParseError, ParserOptions
from yapdns.core.model import Observation

_QUERY = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+):\d+ - (?:\[(?P<clf>[^\]]+)\] )?\d+ "
    r'"(?P<q>[^"]*)" (?P<rcode>[A-Z]+\d*|-) '
, re.ASCII)
_CLF = re.compile(r"(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})", re.ASCII)


class ContainerLine(msgspec.Struct):
    """A container runtime's JSON log record (docker json-file, filebeat)."""

    message: str | None = None
    log: str | None = None
    time: str | None = None


_decode_wrapper = msgspec.json.Decoder(ContainerLine).decode


class CorednsParser(QueryLogParser):
    name = "coredns"
    timezone = "the stamps' own offsets (RFC 3339, CLF); wrapper time is UTC"
    description = "CoreDNS log plugin lines (plain, kubectl/CRI stamped or JSON-wrapped)"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self.untimed = UntimedPolicy(self.options)

    def parse_line(self, line: str) -> Iterator[Observation]:
        fallback = None
        if line.startswith("{"):
            line, fallback = _unwrap(line)
        m = _QUERY.search(line)
        if not m:
            reject_binary(line)
            return
        fields = m["q"].split(" ")
        if len(fields) < 3:
            raise ParseError("log line without '<type> <class> <name>'", code="bad_format")
        qtype, qclass, qname = fields[0], fields[1], fields[2]
        if qclass != "IN":
            return
        rcode = None if m["rcode"] == "-" else m["rcode"]
        yield self.question(qname, qtype, self._when(line[: m.start()], m["clf"], fallback), rcode)

    def _when(self, head: str, clf: str | None, fallback: str | None) -> int:
        if clf:
            return _clf_stamp(clf)
        if iso_length(head):
            return iso_stamp(head, self.clock)
        if fallback and iso_length(fallback):
            return iso_stamp(fallback, self.clock)
        return self.untimed.time()


def _unwrap(line: str) -> tuple[str, str | None]:
    try:
        wrapper = _decode_wrapper(line)
    except (msgspec.DecodeError, UnicodeEncodeError) as exc:  # bad JSON, or undecodable bytes
        raise ParseError(f"not a JSON log record: {exc}", code="bad_json") from None
    text = wrapper.message if wrapper.message is not None else wrapper.log
    if text is None:
        raise ParseError("JSON log record without 'message' or 'log'", code="bad_format")
    return text.rstrip("\r\n"), wrapper.time


def _clf_stamp(text: str) -> int:
    m = _CLF.fullmatch(text)
    month = MONTHS.get(m[2]) if m else None
    if not m or month is None:
        raise ParseError(f"bad CLF timestamp {text[:40]!r}", code="bad_time")
    offset = (int(m[8]) * 3600 + int(m[9]) * 60) * (1 if m[7] == "+" else -1)
    return utc_epoch(int(m[3]), month, int(m[1]), int(m[4]), int(m[5]), int(m[6])) - offset


PARSER = CorednsParser
