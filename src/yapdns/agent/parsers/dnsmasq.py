"""dnsmasq ``log-queries`` logs (plain and ``=extra``), including Pi-hole's ``pihole.log``.

Reads the lines dnsmasq's ``log_query()`` writes: ``query[TYPE] name from
client``, ``forwarded``, and the answers ``reply``/``cached``/``cached-stale``
(from upstream), ``config``/hosts files/``DHCP``/``internal`` (local data).
Consecutive answer lines of one owner and type form one RRset observation;
a ``<CNAME>`` line's target is the name of the next answer line of the same
reply (the chain dnsmasq prints in order); ``NXDOMAIN``/``NODATA`` become
negative observations typed by the query they answer (``NODATA-IPv4``/``-IPv6``
are typed A/AAAA). The reverse form ``reply 192.0.2.1 is host`` is a PTR of
``1.2.0.192.in-addr.arpa``. With ``log-queries=extra`` every line carries the
query's serial, and answers are matched to their query by it; without it, to
the most recent query for the same name (rcode-only lines such as ``reply error
is REFUSED`` then cannot be matched and are skipped).

Not used: ``<MX>``/``<SRV>``/``<TYPE>`` lines (dnsmasq does not log their rdata),
TXT answers of more than one line (dnsmasq logs each character-string on a line
of its own, so records cannot be told apart), the unspecified addresses
``0.0.0.0``/``::`` and Pi-hole blocking verdicts (local policy, not DNS data),
local NXDOMAIN/NODATA (``address=/x/``: policy), lines without a timestamp
(``--log-facility=-`` in containers). dnsmasq logs no TTL. dnsmasq logs only
one PTR per reply, so PTR RRsets may be partial.

Held between lines: the RRset being folded (emitted at the next line that
is not part of it, or when the log goes quiet: ``flush_idle``), a pending
``<CNAME>`` line, the last 4096 queries (to type answers) and the year
rollover; all of it travels with the agent's checkpoint (``save_state``).

Times: ``Mon dd HH:MM:SS`` (day space-padded), the dnsmasq host's local time
(``ParserOptions.timezone``, default the agent host's zone). The year is
``ParserOptions.year`` (advanced by one when the months wrap from December to
January), else the most recent year that does not put the line more than a
day in the future. Options (``ParserOptions.extra``): ``local``: ``skip`` to
drop answers from local data (config, hosts files, DHCP) and keep only
upstream answers (default ``keep``).
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from yapdns.agent.parsers._addr import ip_rrtype
from yapdns.agent.parsers._logtime import MONTHS, WallClock
from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.core.model import Evidence, Observation

_PREFIX = re.compile(
    r"(?:<\d+>)?([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (?:\S+ )?dnsmasq(-dhcp)?\[\d+\]: (.*)", re.ASCII
)
_MESSAGE = re.compile(
    r"(?:(?P<serial>\d+) (?P<client>\S+)/\d+ (?:(?:UDP|TCP) )?)?"  # log-queries=extra (and =proto)
    r"(?P<source>.+?) (?P<name>\S+) (?P<verb>is|to|from) (?P<dest>.*)"
, re.ASCII)
_QUERY = re.compile(r"query\[(?:type=)?([A-Za-z0-9]+)\]")
_EXTRA_SUFFIX = re.compile(r" \((?:DNSSEC signed|EDE: [^)]*)\)$")
_UPSTREAM = frozenset({"reply", "cached", "cached-stale"})
_LOCAL = frozenset({"config", "DHCP", "internal", "Pi-hole hostname"})
_NEGATIVE = {"NXDOMAIN": (None, "NXDOMAIN"), "NODATA": (None, "NOERROR"),
             "NODATA-IPv4": ("A", "NOERROR"), "NODATA-IPv6": ("AAAA", "NOERROR")}  # fmt: skip
_RCODES = frozenset({"SERVFAIL", "REFUSED", "FORMERR", "NOTIMP", "NOTIMPL"})
_UNSPECIFIED = frozenset({"0.0.0.0", "::"})  # noqa: S104  (sinkhole answers, not a bind address)
_QUERIES_KEPT = 4096


class PendingRRset:
    """Answer lines of one reply being folded into an RRset."""

    __slots__ = ("key", "owner", "rdata", "rrtype", "when")

    def __init__(self, key: tuple[str | None, str, str], owner: str, rrtype: str, rdata: str, when: int) -> None:
        self.key, self.owner, self.rrtype, self.rdata, self.when = key, owner, rrtype, [rdata], when


class DnsmasqParser(LineParser):
    name = "dnsmasq"
    evidence = Evidence.DIRECT
    timezone = "dnsmasq host's local time (options.timezone); year from options.year or inferred"
    description = "dnsmasq log-queries (plain and extra) and Pi-hole pihole.log"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self._clock = WallClock(self.options.timezone)
        self._year = self.options.year
        self._last_month = 0
        self._keep_local = self.options.extra.get("local", "keep") != "skip"
        self._queries: OrderedDict[str, tuple[str, str]] = OrderedDict()  # serial or name -> (qtype, qname)
        self._pending: PendingRRset | None = None
        self._cname: tuple[str | None, str, int] | None = None  # (serial, owner, when)

    def parse_line(self, line: str) -> Iterator[Observation]:
        match = _PREFIX.match(line)
        if match is None:
            if "dnsmasq" in line and ("query[" in line or " is " in line):
                raise ParseError("dnsmasq line without a timestamp", code="no_timestamp")
            raise ParseError("not a dnsmasq log line")
        mon, day, hour, minute, second, dhcp, message = match.groups()
        if dhcp:
            return
        msg = _MESSAGE.fullmatch(message)
        if msg is None:
            return  # start-up, "using nameserver", "read /etc/hosts", "validation result"...
        when = self._time(mon, int(day), (int(hour), int(minute), int(second)))
        serial, source, name, verb, dest = msg.group("serial", "source", "name", "verb", "dest")
        if verb == "is":
            yield from self._answer_line(serial, source, name, _EXTRA_SUFFIX.sub("", dest), when)
        else:
            yield from self._emit_pending()
            self._cname = None
            query = _QUERY.fullmatch(source) if verb == "from" else None
            if query:
                self._remember(serial or name.lower(), query.group(1).upper(), name)

    def flush(self) -> Iterator[Observation]:
        yield from self._emit_pending()
        self._cname = None

    def flush_idle(self) -> Iterator[Observation]:
        return self._emit_pending()  # a <CNAME> line still waits for the line naming its target

    def save_state(self) -> Any:
        pending, cname = self._pending, self._cname
        if not self._queries and pending is None and cname is None and not self._last_month:
            return None
        return {
            "queries": [[key, *query] for key, query in self._queries.items()],
            "rrset": None if pending is None else [*pending.key, pending.owner, list(pending.rdata), pending.when],
            "cname": None if cname is None else list(cname),
            "year": self._year,
            "last_month": self._last_month,
        }

    def load_state(self, state: Any) -> None:
        self._queries = OrderedDict((key, (qtype, qname)) for key, qtype, qname in state["queries"])
        rrset = state["rrset"]
        if rrset is not None:
            serial, owner_key, rrtype, owner, rdata, when = rrset
            self._pending = PendingRRset((serial, owner_key, rrtype), owner, rrtype, rdata[0], when)
            self._pending.rdata = list(rdata)
        cname = state["cname"]
        self._cname = None if cname is None else (cname[0], cname[1], cname[2])
        self._year, self._last_month = state["year"], state["last_month"]

    def _answer_line(self, serial: str | None, source: str, name: str, dest: str, when: int) -> Iterator[Observation]:
        if source in _UPSTREAM or self._is_local(source):
            yield from self._answer(serial, source, name, dest, when)
        else:  # a blocking verdict, "validation result", or local data the options drop
            yield from self._emit_pending()
            self._cname = None

    def _is_local(self, source: str) -> bool:
        return self._keep_local and (source in _LOCAL or source.startswith("/"))

    def _answer(self, serial: str | None, source: str, name: str, dest: str, when: int) -> Iterator[Observation]:
        if self._cname is not None:
            cname_serial, owner, cname_when = self._cname
            self._cname = None
            if cname_serial == serial and owner.lower() != name.lower():
                yield from self._add(serial, owner, "CNAME", name, cname_when)
        if dest == "<CNAME>":
            self._cname = (serial, name, when)
            return
        negative = _NEGATIVE.get(dest) or (("", dest) if dest in _RCODES else None)
        if negative is not None:
            yield from self._emit_pending()
            if source in _UPSTREAM:
                yield from self._negative(serial, name, negative, when)
            return
        typed = self._typed(serial, name, dest)
        if typed is not None:
            yield from self._add(serial, *typed, when)

    def _typed(self, serial: str | None, name: str, dest: str) -> tuple[str, str, str] | None:
        """(owner, rrtype, rdata) of an answer line, or ``None`` if it carries no usable rdata."""
        if dest in _UNSPECIFIED or dest.startswith("<"):
            return None
        family = ip_rrtype(dest)
        if family is not None:
            return name, family, dest
        if ip_rrtype(name) is not None and " " not in dest:
            return ipaddress.ip_address(name).reverse_pointer, "PTR", dest
        if self._qtype(serial, name) == "TXT":
            return name, "TXT", '"' + dest.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return None

    def _negative(
        self, serial: str | None, name: str, negative: tuple[str | None, str], when: int
    ) -> Iterator[Observation]:
        rrtype, rcode = negative
        if rrtype == "":  # "reply error is REFUSED": about the query of this serial
            query = self._queries.get(serial) if serial is not None else None
            if query is None:
                return
            rrtype, name = query
        rrtype = rrtype or self._qtype(serial, name)
        if rrtype:
            yield Observation(rrname=name, rrtype=rrtype, time_first=when, time_last=when, rcode=rcode,
                              source="dnsmasq")  # fmt: skip

    def _add(self, serial: str | None, owner: str, rrtype: str, rdata: str, when: int) -> Iterator[Observation]:
        key = (serial, owner.lower(), rrtype)
        pending = self._pending
        if pending is not None and pending.key == key and rrtype != "CNAME":
            if rdata not in pending.rdata:
                pending.rdata.append(rdata)
            return
        yield from self._emit_pending()
        self._pending = PendingRRset(key, owner, rrtype, rdata, when)

    def _emit_pending(self) -> Iterator[Observation]:
        pending, self._pending = self._pending, None
        if pending is None or (pending.rrtype == "TXT" and len(pending.rdata) > 1):
            return
        yield Observation(rrname=pending.owner, rrtype=pending.rrtype, rdata=tuple(pending.rdata),
                          time_first=pending.when, time_last=pending.when, source="dnsmasq")  # fmt: skip

    def _remember(self, key: str, qtype: str, qname: str) -> None:
        self._queries[key] = (qtype, qname)
        self._queries.move_to_end(key)
        if len(self._queries) > _QUERIES_KEPT:
            self._queries.popitem(last=False)

    def _qtype(self, serial: str | None, name: str) -> str | None:
        query = self._queries.get(serial if serial is not None else name.lower())
        return query[0] if query is not None else None

    def _time(self, mon: str, day: int, hms: tuple[int, int, int]) -> int:
        month = MONTHS.get(mon)
        if month is None:
            raise ParseError(f"unknown month {mon!r}", code="bad_time")
        if self._year is not None:
            if self._last_month == 12 and month == 1:
                self._year += 1
            self._last_month = month
            return self._clock.epoch(self._year, month, day, *hms)
        now = time.time()
        latest = time.gmtime(now).tm_year + 1
        for year in range(latest, latest - 9, -1):
            try:
                when = self._clock.epoch(year, month, day, *hms)
            except ParseError:
                continue  # 29 February of a common year
            if when <= now + 86400:
                return when
        raise ParseError(f"no year puts {mon} {day} in the past", code="bad_time")


PARSER = DnsmasqParser
