"""Legacy DNSDump TSV (2016): the files of the original YAPDNS Cuckoo module ``yapdns/cuckoo-dnsdump``.

No header; one line per ``network.dns`` entry that had an answer::

    <report time, ISO 8601>  <name asked>  <type>  <rdata>

The time is ``datetime.now().isoformat()`` when Cuckoo *wrote the report*
(minutes to hours after the traffic), in the sandbox host's local time without
a zone: it is read in the ``timezone`` option's zone (default: this host's
zone). ``type`` is the query type when an answer of that type existed (then
``rdata`` is the last such answer), else the type of the first answer. Only one
rdata per entry was written, NXDOMAIN and unanswered queries were skipped, and
the file was overwritten on reprocessing: what was lost cannot be recovered.

On CAPEv2 the module also wrote the NXDOMAIN marker as a line of type
``NXDOMAIN`` with empty rdata: that is a negative observation (rrtype ``TYPE0``).
Each other line is an ``indirect`` pairing of the name with the rdata, like DNSDump
v2's ``answer`` lines; a CNAME line only says the target is a name of the
chain (the query type is unknown), so it yields the asked name and the target
as name-only observations (rrtype ``TYPE0``); truncated answers (MX without
preference, TXT strings joined with spaces) yield the asked name alone. There
is no task id or sample hash in this format.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from yapdns.agent.parsers._logtime import zone_for
from yapdns.agent.parsers._sandbox import UNKNOWN_TYPE, answer_rdata, wall_clock_epoch
from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.core.model import Evidence, Observation


class DnsDumpParser(LineParser):
    name = "dnsdump"
    evidence = Evidence.INDIRECT
    timezone = "report time, sandbox host's local zone (timezone option; default: this host's zone)"
    description = "Legacy DNSDump TSV of the 2016 YAPDNS Cuckoo module (report time, one rdata per name)"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self.zone = zone_for(self.options.timezone)

    def parse_line(self, line: str) -> Iterator[Observation]:
        if not line.strip():
            return
        fields = line.split("\t", 3)
        if len(fields) != 4:
            raise ParseError(f"{len(fields)} tab-separated fields, expected 4", code="field_count")
        stamp, name, rrtype, rdata = fields
        try:
            when = wall_clock_epoch(datetime.fromisoformat(stamp), self.zone)
        except ValueError:
            raise ParseError(f"bad timestamp {stamp[:40]!r}", code="bad_time") from None
        if rrtype == "NXDOMAIN":  # CAPEv2's NXDOMAIN marker, written as if it were an answer
            yield Observation(
                rrname=name,
                rrtype=UNKNOWN_TYPE,
                rcode="NXDOMAIN",
                time_first=when,
                time_last=when,
                source=self.name,
                evidence=self.evidence,
            )
            return
        if rrtype == "CNAME":
            yield self._name_only(name, when)
            yield self._name_only(rdata, when)
            return
        canonical = answer_rdata(rrtype, rdata)
        if canonical is None:
            yield self._name_only(name, when)
            return
        yield Observation(
            rrname=name,
            rrtype=rrtype,
            rdata=(canonical,),
            time_first=when,
            time_last=when,
            source=self.name,
            evidence=self.evidence,
        )

    def _name_only(self, name: str, when: int) -> Observation:
        return Observation(
            rrname=name, rrtype=UNKNOWN_TYPE, time_first=when, time_last=when, source=self.name, evidence=self.evidence
        )


PARSER = DnsDumpParser
