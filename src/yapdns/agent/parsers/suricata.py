"""Suricata ``eve.json`` DNS events: v1 (one event per answer RR), v2 (``answers``/``grouped``), v3 (Suricata 8).

Lines of other event types (flow, alert, http...) are skipped without a
parse, so a full eve.json can be read as it is. A DNS response yields:

* its answer section as RRsets (all records of one owner and type in one
  observation, with the smallest TTL). ``answers`` (detailed format) is used
  when present; a ``grouped``-only event has no owner names, so its CNAMEs are
  read as a chain from the query name in logged order and its other records
  belong to the chain's end (only A/AAAA/CNAME/PTR/NS are used from ``grouped``);
* a negative observation for an rcode other than NOERROR, about the end of the
  CNAME chain, and NODATA for a NOERROR response with no answer;
* v1: each ``answer`` event is one RR; a v1 error event is a negative.

Rdata: A/AAAA/CNAME/PTR/NS/TXT from ``rdata``; SOA, SRV and SSHFP from their
structured objects. Suricata logs only the exchange of an MX (no preference)
and NULL/unknown types as hex, so those records are not used. Suricata 7 logs
each character-string of a TXT record as an answer of its own, so one record
of two strings looks like two records: a TXT RRset is used only when it has a
single entry. Query events
(``query``/``request``) are skipped: the response carries the question too.

Options (``ParserOptions.extra``):

* ``authorities``: ``keep`` to also use NS and SOA records of the authority
  section whose owner is the query name or one of its parents (default
  ``skip``: authority and additional records are not answers to the question,
  and unchecked glue is how caches get poisoned). Additional records are never used.
* ``queries``: ``keep`` to turn query/request events into bare-query observations.

Times: ``timestamp`` is ISO 8601 with the sensor's UTC offset (``+hhmm``), converted to UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from yapdns.agent.parsers._logtime import IsoClock
from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.core.model import Evidence, Observation

_GROUPED_TYPES = ("CNAME", "A", "AAAA", "PTR", "NS")
_RDATA_TYPES = frozenset({"A", "AAAA", "CNAME", "PTR", "NS", "TXT", "DNAME", "SPF"})


class EveSoa(msgspec.Struct):
    mname: str
    rname: str
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int


class EveSrv(msgspec.Struct):
    priority: int
    weight: int
    port: int
    name: str


class EveSshfp(msgspec.Struct):
    fingerprint: str
    algo: int
    type: int


class EveRR(msgspec.Struct):
    rrname: str = ""
    rrtype: str = ""
    ttl: int | None = None
    rdata: str | None = None
    soa: EveSoa | None = None
    srv: EveSrv | None = None
    sshfp: EveSshfp | None = None


class EveQuestion(msgspec.Struct):
    rrname: str = ""
    rrtype: str = ""


class EveDns(EveRR):
    version: int | None = None
    type: str = ""
    opcode: int = 0
    rcode: str | None = None
    queries: list[EveQuestion] | None = None
    answers: list[EveRR] | None = None
    authorities: list[EveRR] | None = None
    grouped: dict[str, list[Any]] | None = None


class EveEvent(msgspec.Struct):
    timestamp: str | None = None
    event_type: str | None = None
    dns: EveDns | None = None


_decode = msgspec.json.Decoder(EveEvent).decode


def rr_rdata(rr: EveRR) -> str | None:
    """The presentation rdata of one logged RR, or ``None`` when Suricata did not log all of it."""
    if rr.rrtype in _RDATA_TYPES:
        if rr.rdata is None:
            return None
        return _quote(rr.rdata) if rr.rrtype in ("TXT", "SPF") else rr.rdata
    if rr.soa is not None:
        s = rr.soa
        return f"{s.mname or '.'} {s.rname or '.'} {s.serial} {s.refresh} {s.retry} {s.expire} {s.minimum}"
    if rr.srv is not None:
        return f"{rr.srv.priority} {rr.srv.weight} {rr.srv.port} {rr.srv.name or '.'}"
    if rr.sshfp is not None:
        return f"{rr.sshfp.algo} {rr.sshfp.type} {rr.sshfp.fingerprint.replace(':', '')}"
    return None


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SuricataEveParser(LineParser):
    name = "suricata"
    evidence = Evidence.DIRECT
    timezone = "the event's own UTC offset (ISO 8601 +hhmm), converted to UTC"
    description = "Suricata eve.json DNS events: v1, v2 (detailed/grouped), v3 (Suricata 8)"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self._clock = IsoClock()
        self._authorities = self.options.extra.get("authorities", "skip") == "keep"
        self._queries = self.options.extra.get("queries", "skip") == "keep"

    def parse_line(self, line: str) -> list[Observation]:
        if '"event_type":"dns"' not in line and ('"dns"' not in line or '"event_type":"' in line):
            return []  # another event type, skipped without a parse (eve is compact JSON)
        if not self._queries and ('"type":"query"' in line or '"type":"request"' in line):
            return []  # a question alone: the response event repeats it
        try:
            event = _decode(line)
        except (msgspec.DecodeError, UnicodeEncodeError) as exc:
            raise ParseError(f"not an eve.json DNS event: {exc}") from None
        dns = event.dns
        if dns is None or event.event_type not in (None, "dns") or dns.opcode != 0:
            return []  # alerts carry a dns object too: the dns event has it all
        if event.timestamp is None:
            raise ParseError("the event has no timestamp", code="missing_field")
        return list(self._event(dns, self._clock.epoch(event.timestamp)))

    def _event(self, dns: EveDns, when: int) -> Iterator[Observation]:
        if dns.type in ("query", "request"):
            yield from self._query(dns, when)
        elif dns.type in ("answer", "response"):
            v1 = dns.version is None and dns.answers is None and dns.queries is None
            yield from self._v1_answer(dns, when) if v1 else self._response(dns, when)

    def _question(self, dns: EveDns) -> tuple[str, str] | None:
        if dns.queries:
            return dns.queries[0].rrname, dns.queries[0].rrtype
        if dns.rrname is not None and dns.rrtype:
            return dns.rrname, dns.rrtype
        return None

    def _query(self, dns: EveDns, when: int) -> Iterator[Observation]:
        question = self._question(dns)
        if self._queries and question:
            yield Observation(rrname=question[0] or ".", rrtype=question[1], time_first=when, time_last=when,
                              source="suricata")  # fmt: skip

    def _v1_answer(self, dns: EveDns, when: int) -> Iterator[Observation]:
        if dns.rcode not in (None, "NOERROR"):
            if dns.rrname is not None and dns.rrtype:
                yield self._obs(dns.rrname, dns.rrtype, (), when, None, rcode=dns.rcode)
            return
        rdata = rr_rdata(dns)
        if rdata is not None and dns.rrname is not None:
            yield self._obs(dns.rrname, dns.rrtype, (rdata,), when, dns.ttl)

    def _response(self, dns: EveDns, when: int) -> Iterator[Observation]:
        question = self._question(dns)
        if dns.answers is not None:
            rrsets, end = self._detailed(dns.answers, question)
        elif dns.grouped is not None and question is not None:
            rrsets, end = self._grouped(dns.grouped, question[0])
        else:
            rrsets, end = {}, question[0] if question else None
        for (owner, rrtype), (rdata, ttl) in rrsets.items():
            yield self._obs(owner, rrtype, tuple(rdata), when, ttl)
        if self._authorities and dns.authorities and question:
            yield from self._authority(dns.authorities, question[0], when)
        if question is None or end is None:
            return
        if dns.rcode not in (None, "NOERROR"):
            yield self._obs(end, question[1], (), when, None, rcode=dns.rcode)
        elif not rrsets and dns.answers is None and dns.grouped is None:
            yield self._obs(question[0], question[1], (), when, None, rcode="NOERROR")

    def _detailed(
        self, answers: list[EveRR], question: tuple[str, str] | None
    ) -> tuple[dict[tuple[str, str], tuple[list[str], int | None]], str | None]:
        rrsets: dict[tuple[str, str], tuple[list[str], int | None]] = {}
        cnames: dict[str, str] = {}
        for rr in answers:
            rdata = rr_rdata(rr)
            if rdata is None:
                continue
            if rr.rrtype == "CNAME":
                cnames.setdefault(rr.rrname.lower(), rdata)
            key = (rr.rrname or ".", rr.rrtype)
            members, ttl = rrsets.get(key, ([], None))
            members.append(rdata)
            rrsets[key] = (members, rr.ttl if ttl is None or (rr.ttl is not None and rr.ttl < ttl) else ttl)
        for key in [k for k, (members, _) in rrsets.items() if k[1] in ("TXT", "SPF") and len(members) > 1]:
            del rrsets[key]  # one entry per character-string: records cannot be told apart
        end = question[0] if question else None
        seen = 0
        while end is not None and end.lower() in cnames and seen < 64:
            end, seen = cnames[end.lower()], seen + 1
        return rrsets, end

    def _grouped(
        self, grouped: dict[str, list[Any]], query: str
    ) -> tuple[dict[tuple[str, str], tuple[list[str], int | None]], str]:
        rrsets: dict[tuple[str, str], tuple[list[str], int | None]] = {}
        owner = query
        for target in grouped.get("CNAME", []):
            if isinstance(target, str):
                rrsets[(owner, "CNAME")] = ([target], None)
                owner = target
        for rrtype in _GROUPED_TYPES[1:]:
            values = [v for v in grouped.get(rrtype, []) if isinstance(v, str)]
            if values:
                rrsets[(owner, rrtype)] = (values, None)
        return rrsets, owner

    def _authority(self, records: list[EveRR], query: str, when: int) -> Iterator[Observation]:
        qname = query.lower().rstrip(".")
        for rr in records:
            owner = rr.rrname.lower().rstrip(".")
            in_bailiwick = owner in ("", qname) or qname.endswith("." + owner)
            rdata = rr_rdata(rr) if rr.rrtype in ("NS", "SOA") and in_bailiwick else None
            if rdata is not None:
                yield self._obs(rr.rrname or ".", rr.rrtype, (rdata,), when, rr.ttl)

    def _obs(
        self, rrname: str, rrtype: str, rdata: tuple[str, ...], when: int, ttl: int | None, *, rcode: str | None = None
    ) -> Observation:
        return Observation(rrname=rrname or ".", rrtype=rrtype, rdata=rdata, time_first=when, time_last=when, ttl=ttl,
                           rcode=rcode, source="suricata")  # fmt: skip


PARSER = SuricataEveParser
