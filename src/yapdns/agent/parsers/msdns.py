"""Microsoft DNS Server debug log (``dns.log``), plain PACKET lines and "Details" records.

Reads the packet summary line::

    <date> <time>[ AM|PM] <thread> PACKET  <ptr> UDP|TCP Snd|Rcv <remote> <xid> <R| > <opcode>
        [<flags> <chars> <RCODE>] <QTYPE> <qname>

and, when the server logs with "Details", the block that follows it up to a
blank line (``UDP response info at ...``, ``Message:``, the header and one
block per section and RR: ``Name "(3)www..."``, ``TYPE A (1)``, ``CLASS``,
``TTL``, ``DATA``; SOA data on sub-lines). A record is complete at the next
PACKET line, a blank line or the end of input (``flush``).

Observations (evidence ``direct``, source ``msdns``), standard queries only:

* a response with Details: one RRset per owner name and type of the answer
  and authority sections, with its TTL (the smallest of the set) for the
  types whose printed form is known (A, AAAA, NS, CNAME, PTR, DNAME, SOA;
  others, OPT and the additional section are not decoded, never guessed);
  plus a negative observation of the question when the rcode is not NOERROR,
  or NODATA when the answer section is empty and the authority holds an SOA;
* a response without Details: a negative observation when the rcode is not
  NOERROR, else a bare query (the line has no answers);
* a query packet: a bare query, unless a response to the same remote, XID,
  type and name follows, which then stands for the exchange (one exchange,
  one sighting). Responses the server received from forwarders or
  authoritative servers (``Rcv`` + ``R``) count too: they are answers it saw.

Header lines, notify/update packets and orphan Details lines (a file that
wrapped mid-record) are skipped.

Held between lines, and carried across an agent restart (``save_state``):
the record being read (its raw lines), the queries waiting for their
response and the learned date order. When the log goes quiet
(``flush_idle``) the record is finished and waiting queries are released
as bare queries.

Time: the PACKET line's date and time, server local time
(``ParserOptions.timezone``, else the host's zone). The date is written in
the server's locale: option ``date_order`` (``auto`` default, ``mdy``,
``dmy``, ``ymd``; see ``LocaleDate``). Set it when the server's locale is
known: ``auto`` cannot tell 05/03 apart until a day above 12 shows up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from yapdns.agent.parsers._logtime import WallClock
from yapdns.agent.parsers._msdns_fields import DetailRR, LocaleDate, PacketLine, label_name
from yapdns.agent.parsers._querylog import PendingQuestions, question
from yapdns.agent.parsers._textline import reject_binary
from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.core.model import Evidence, Observation

_TYPE_CODE = re.compile(r"\((\d+)\)\s*$", re.ASCII)
_KEPT_SECTIONS = ("ANSWER", "AUTHORITY")


class _Record:
    """One PACKET line and the Details block that follows it."""

    def __init__(self, packet: PacketLine, when: int, line: str) -> None:
        self.packet = packet
        self.when = when
        self.lines = [line]  # as read, for save_state
        self.section = ""
        self.detailed = False
        self.rrs: list[DetailRR] = []
        self.answer_count = 0

    def feed(self, line: str) -> None:
        self.lines.append(line)
        text = line.strip()
        if text.endswith(" SECTION:"):
            self.section = text.split(" ", 1)[0]
            self.detailed = True
            return
        key, _, value = text.partition(" ")
        value = value.strip()
        if key == "Name" and self.section in ("ANSWER", "AUTHORITY", "ADDITIONAL"):
            self.rrs.append(DetailRR(self.section, label_name(value)))
            self.answer_count += self.section == "ANSWER"
        elif self.rrs and self.section != "QUESTION":
            self._field(self.rrs[-1], key, value, text)

    @staticmethod
    def _field(rr: DetailRR, key: str, value: str, text: str) -> None:
        try:
            if key == "TYPE":
                m = _TYPE_CODE.search(value)
                rr.type_code = int(m[1]) if m else -1
            elif key == "CLASS":
                rr.klass = int(value)
            elif key == "TTL":
                rr.ttl = int(value)
            elif key == "DATA":
                rr.value = value
            elif ":" in text or "=" in text:
                sep = ":" if ":" in text and (text.find(":") < text.find("=") or "=" not in text) else "="
                name, _, data = text.partition(sep)
                rr.sub[name.strip()] = data.strip()
        except ValueError:
            raise ParseError(f"bad {key} in a Details record: {value[:40]!r}", code="bad_format") from None


class MsdnsParser(LineParser):
    name = "msdns"
    evidence = Evidence.DIRECT
    timezone = "server local time (ParserOptions.timezone, else the host's zone); date order by option date_order"
    description = "Microsoft DNS Server debug log (dns.log), PACKET lines with or without Details"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self.dates = LocaleDate(self.options.extra.get("date_order", "auto"), WallClock(self.options.timezone))
        self.pending = PendingQuestions()
        self._record: _Record | None = None

    def parse_line(self, line: str) -> Iterator[Observation]:
        if " PACKET " in line[:64]:
            yield from self._finish()  # kept by the runner even if the new PACKET line is bad
            packet = PacketLine.parse(line)
            self._record = _Record(packet, self.dates.epoch(packet.date, packet.time), line)
        elif self._record is None:
            reject_binary(line)  # the header, or Details of a record cut by a wrap
        elif not line.strip():
            yield from self._finish()
        else:
            self._record.feed(line)

    def flush(self) -> Iterator[Observation]:
        yield from self._finish()
        yield from self.pending.drain()

    def flush_idle(self) -> Iterator[Observation]:
        return self.flush()

    def save_state(self) -> Any:
        pending, record, learned = self.pending.save(), self._record, self.dates.learned
        if pending is None and record is None and learned is None:
            return None
        return {"pending": pending, "record": list(record.lines) if record else None, "learned": learned}

    def load_state(self, state: Any) -> None:
        for line in state["record"] or ():  # read again: they were counted before the restart
            try:
                for _ in self.parse_line(line):
                    pass
            except ParseError:
                continue  # a bad Details line: it changed nothing then, it changes nothing now
        if state["pending"] is not None:
            self.pending.load(state["pending"])
        self.dates.learned = state["learned"]

    def _finish(self) -> Iterator[Observation]:
        record, self._record = self._record, None
        if record is None or record.packet.opcode != "Q":
            return
        p = record.packet
        key = (p.remote, p.xid, p.qtype.upper(), p.qname.lower())
        if not p.response:
            yield from self.pending.ask(key, question(p.qname, p.qtype, record.when, self.name))
            return
        self.pending.answer(key, None)  # the response stands for the exchange
        yield from self._response(record)

    def _response(self, record: _Record) -> Iterator[Observation]:
        p = record.packet
        rrsets = self._rrsets(record) if record.detailed else []
        has_soa = any(rr.type_code == 6 and rr.section == "AUTHORITY" for rr in record.rrs)
        if p.rcode != "NOERROR":
            yield question(p.qname, p.qtype, record.when, self.name, p.rcode)
        elif record.detailed and record.answer_count == 0 and has_soa:
            yield question(p.qname, p.qtype, record.when, self.name, "NODATA")
        elif not rrsets:
            yield question(p.qname, p.qtype, record.when, self.name)
        yield from rrsets

    def _rrsets(self, record: _Record) -> list[Observation]:
        sets: dict[tuple[str, str], tuple[list[str], list[int]]] = {}
        for rr in record.rrs:
            rdata = rr.rdata() if rr.section in _KEPT_SECTIONS else None
            if rdata is None:
                continue
            values, ttls = sets.setdefault((rr.name, rr.rrtype()), ([], []))
            values.append(rdata)
            if rr.ttl is not None:
                ttls.append(rr.ttl)
        return [
            Observation(
                rrname=name,
                rrtype=rrtype,
                rdata=tuple(values),
                time_first=record.when,
                time_last=record.when,
                ttl=min(ttls) if ttls else None,
                source=self.name,
                evidence=self.evidence,
            )
            for (name, rrtype), (values, ttls) in sets.items()
        ]


PARSER = MsdnsParser
