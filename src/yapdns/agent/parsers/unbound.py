"""Unbound ``log-queries`` / ``log-replies`` lines (logfile or syslog).

Reads::

    query: [<prefix>] info|query: <client> <qname>. <TYPE> <CLASS>
    reply: [<prefix>] info|reply: <client> <qname>. <TYPE> <CLASS> <RCODE> <seconds> <cached 0|1> <size>

with the prefixes ``[<epoch>] unbound[<pid>:<thread>] `` (logfile),
``Mon DD HH:MM:SS unbound[<pid>:<thread>] `` (``log-time-ascii``) or a
syslog header + ``unbound: [<pid>:<thread>] ``. Unbound never logs answer
RRs, so each question becomes one observation: a negative one when its
reply says NXDOMAIN, SERVFAIL, REFUSED... and a bare query otherwise
(a NOERROR reply may be data or NODATA: the log cannot tell). With both
log-queries and log-replies on, a question and its reply are paired (by
client, name, type and class) and counted once; a question whose reply
is never logged is released as a bare query. Evidence ``direct``.

Skipped: log-local-actions and log-servfail lines (their question is
already on a query or reply line), start-up and statistics lines, and
non-IN classes. Unbound prints unprintable name bytes as ``?``; such a name
cannot be recovered and the line is rejected (code ``lossy_name``).

Time: ``[<epoch>]`` is UTC; ``log-time-ascii`` and syslog stamps are
local time (``ParserOptions.timezone``, else the host's zone; year from
``ParserOptions.year`` or inferred); RFC 3339 syslog stamps carry their
offset.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from yapdns.agent.parsers._querylog import QueryLogParser
from yapdns.agent.parsers._textline import reject_binary
from yapdns.agent.parsers.base import ParseError
from yapdns.core.digits import ascii_digits
from yapdns.core.model import Observation

_TAGS = (" info: ", " query: ", " reply: ")
_RCODE = re.compile(r"[A-Z]+|RCODE\d+", re.ASCII)


class UnboundParser(QueryLogParser):
    name = "unbound"
    syslog_start = re.compile(r"[A-Z][a-z]{2} [ 0-9]\d \d{2}:\d{2}:\d{2} ", re.ASCII)
    timezone = "[epoch] prefix: UTC; log-time-ascii and syslog stamps: ParserOptions.timezone, else the host's zone"
    description = "Unbound log-queries / log-replies lines (logfile or syslog)"

    def parse_line(self, line: str) -> Iterator[Observation]:
        tag_at, tag = _find_tag(line)
        if tag_at < 0:
            reject_binary(line)
            return
        fields = line[tag_at + len(tag) :].split(" ")
        if len(fields) == 4 and tag != " reply: ":
            yield from self._question(line[:tag_at], fields)
        elif len(fields) == 8 and tag != " query: " and _RCODE.fullmatch(fields[4]):
            yield from self._reply(line[:tag_at], fields)
        # anything else under the tag is a local-action, servfail, start-up or stats line

    def _question(self, prefix: str, fields: list[str]) -> Iterator[Observation]:
        client, qname, qtype, qclass = fields
        if "@" in client or qclass != "IN":
            return  # a log-local-actions line ("<zone> <type> <ip>@<port> ...") or a non-IN class
        obs = self.question(_name(qname), qtype, self._when(prefix))
        yield from self.pending.ask((client, qname, qtype, qclass), obs)

    def _reply(self, prefix: str, fields: list[str]) -> Iterator[Observation]:
        client, qname, qtype, qclass, rcode = fields[:5]
        if qclass != "IN":
            return
        yield self.answered((client, qname, qtype, qclass), _name(qname), qtype, rcode, lambda: self._when(prefix))

    def _when(self, prefix: str) -> int:
        if prefix.startswith("["):
            end = prefix.find("]")
            if end > 1 and ascii_digits(prefix[1:end]):
                return int(prefix[1:end])
            raise ParseError("bad [epoch] prefix", code="bad_time")
        when = self.leading_stamp(prefix)
        if when is None:
            raise ParseError("no timestamp before the unbound tag", code="bad_time")
        return when


def _find_tag(line: str) -> tuple[int, str]:
    for tag in _TAGS:
        at = line.find(tag)
        if at >= 0 and "unbound" in line[:at]:
            return at, tag
    return -1, ""


def _name(qname: str) -> str:
    if "?" in qname:
        raise ParseError(f"unbound replaced unprintable bytes of {qname[:80]!r} with '?'", code="lossy_name")
    return qname


PARSER = UnboundParser
