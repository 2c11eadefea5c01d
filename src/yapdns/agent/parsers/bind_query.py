"""BIND 9 query log (category ``queries``, ``querylog yes``), every era from 9.3 to 9.18+.

Reads lines of the shape (``lib/ns/client.c``, ``lib/ns/query.c``)::

    [stamp ][category: ][severity: ]client [@0x..] <ip>#<port>[/key k] [(<qname>)]: [view v: ]
        query: <qname> <CLASS> <TYPE> [flags] [(<server>)] [[ECS ...]]

optionally wrapped in a syslog header. The query log names the question
only, never the answer: each ``query:`` line is one bare-query observation
(empty rdata, no rcode), evidence ``direct`` (logged by the server). Lines
that share the ``client`` prefix but are not queries (``query (cache)
... denied``, ``zone transfer ... denied``, ``query failed (...)``, rpz,
update) and lines of other categories carry no question and are skipped,
as are queries of a class other than IN.

Time: BIND's own stamp wins (``DD-Mon-YYYY HH:MM:SS.mmm`` or ISO 8601 from
``print-time local|yes|iso8601``, in the server's local time, i.e.
``ParserOptions.timezone`` or the host's zone; ``iso8601-utc`` stamps end in
``Z`` and are UTC). Otherwise a syslog header's stamp is used (year from
``ParserOptions.year`` or inferred). Lines with no stamp at all follow the
``untimed`` option (``reject`` by default, or ``now``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from yapdns.agent.parsers._logtime import MONTHS, UntimedPolicy
from yapdns.agent.parsers._querylog import QueryLogParser
from yapdns.agent.parsers._textline import reject_binary
from yapdns.agent.parsers.base import ParseError, ParserOptions
from yapdns.core.model import Observation

_MARK = ": query: "
_BIND_STAMP = re.compile(r"(\d{2})-([A-Z][a-z]{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})", re.ASCII)
_PRIORITY = re.compile(r"<\d{1,3}>\s*", re.ASCII)


class BindQueryParser(QueryLogParser):
    name = "bind_query"
    timezone = "server local time (ParserOptions.timezone, else the host's zone); iso8601-utc stamps are UTC"
    description = "BIND 9 query log (querylog, category queries), plain file or syslog"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self.untimed = UntimedPolicy(self.options)

    def parse_line(self, line: str) -> Iterator[Observation]:
        at = line.find(_MARK)
        if at < 0:
            reject_binary(line)
            return  # not a query line (other categories, denials, start-up)
        head = line[:at]
        client = head.find("client ")
        if client < 0:
            raise ParseError("query line without 'client <address>#<port>'", code="bad_format")
        fields = line[at + len(_MARK) :].split()
        if len(fields) < 3:
            raise ParseError("query line without '<qname> <class> <type>'", code="bad_format")
        qname, qclass, qtype = fields[0], fields[1], fields[2]
        if qclass != "IN":
            return  # CH/HS queries are not Internet DNS data
        yield self.question(qname, qtype, self._when(head[:client]))

    def _when(self, prefix: str) -> int:
        """The time of a line from everything before ``client``."""
        stamp = _BIND_STAMP.search(prefix)
        if stamp:
            day, mon, year, hour, minute, second = stamp.groups()
            month = MONTHS.get(mon)
            if month is None:
                raise ParseError(f"unknown month {mon!r}", code="bad_time")
            return self.clock.epoch(int(year), month, int(day), int(hour), int(minute), int(second))
        text = _PRIORITY.sub("", prefix, count=1) if prefix.startswith("<") else prefix
        when = self.leading_stamp(text)
        return self.untimed.time() if when is None else when


PARSER = BindQueryParser
