"""Pieces of the Microsoft DNS debug log: PACKET lines, dates, label-form names, Details RRs.

``PacketLine.parse`` reads the one-line packet summary; ``LocaleDate`` reads
its locale-dependent date; ``label_name`` turns ``(3)www(7)example(3)com(0)``
(with ``[Cxxx]`` compression markers) into ``www.example.com``; ``DetailRR``
collects one resource record of a Details block and renders the rdata of
the types whose printed form is known (A, AAAA, NS, CNAME, PTR, DNAME, SOA).
"""

from __future__ import annotations

import re
from functools import lru_cache

from yapdns.agent.parsers._logtime import WallClock
from yapdns.agent.parsers.base import ParseError
from yapdns.core.errors import ConfigurationError

_PACKET = re.compile(
    r"(?P<date>\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}) (?P<time>\d{1,2}:\d{2}:\d{2})(?: (?P<ampm>[AaPp][Mm]))? "
    r"[0-9A-Fa-f]+ PACKET +[0-9A-Fa-f]+ (?P<proto>UDP|TCP) +(?P<dir>Snd|Rcv) (?P<remote>\S+) +"
    r"(?P<xid>[0-9A-Fa-f]{1,4}) (?P<resp>[R ]) (?P<opcode>[QNU?]) "
    r"\[[0-9A-Fa-f]{4} .{4} *(?P<rcode>[A-Z]+)\] +(?P<qtype>\S+) +(?P<qname>\S.*?)\s*$"
, re.ASCII)
_DATE_SEP = re.compile(r"[/.-]")
_LABEL_LEN = re.compile(r"\((\d{1,3})\)", re.ASCII)
_COMPRESSION = re.compile(r"\[C[0-9A-Fa-f]{3,4}\]")
DATE_ORDERS = ("auto", "mdy", "dmy", "ymd")
NAME_TYPES = {2: "NS", 5: "CNAME", 12: "PTR", 39: "DNAME"}
SOA_FIELDS = ("PrimaryServer", "Administrator", "SerialNo", "Refresh", "Retry", "Expire", "MinimumTTL")


class PacketLine:
    """The fields of a PACKET line that matter here."""

    __slots__ = ("date", "opcode", "qname", "qtype", "rcode", "remote", "response", "time", "xid")

    def __init__(self, m: re.Match[str]) -> None:
        self.date = m["date"]
        self.time = (m["time"], m["ampm"])
        self.remote = m["remote"]
        self.xid = m["xid"].lower()
        self.response = m["resp"] == "R"
        self.opcode = m["opcode"]
        self.rcode = m["rcode"]
        self.qtype = m["qtype"]
        self.qname = label_name(m["qname"])

    @classmethod
    def parse(cls, line: str) -> PacketLine:
        m = _PACKET.match(line)
        if not m:
            raise ParseError("unreadable PACKET line", code="bad_format")
        return cls(m)


class LocaleDate:
    """Dates written in the server's locale: ``date_order`` is ``auto``, ``mdy``, ``dmy`` or ``ymd``.

    ``auto`` reads year-first dates as Y/M/D; otherwise a first field above 12
    means D/M/Y and a second field above 12 means M/D/Y, and the order so
    learned holds for the rest of the input. Until a date settles it, a
    12-hour clock (AM/PM) means M/D/Y (en-US) and a 24-hour clock D/M/Y.
    """

    def __init__(self, order: str, clock: WallClock) -> None:
        if order not in DATE_ORDERS:
            raise ConfigurationError(f"option date_order must be one of {', '.join(DATE_ORDERS)}, not {order!r}")
        self.fixed = None if order == "auto" else order
        self.learned: str | None = None
        self.clock = clock

    def epoch(self, date: str, clock_time: tuple[str, str | None]) -> int:
        year, month, day = self._ymd(date, clock_time[1] is not None)
        hour, minute, second = (int(p) for p in clock_time[0].split(":"))
        if clock_time[1] is not None:
            if not 1 <= hour <= 12:
                raise ParseError(f"bad 12-hour time {clock_time[0]!r}", code="bad_time")
            hour = hour % 12 + (12 if clock_time[1].upper() == "PM" else 0)
        return self.clock.epoch(year, month, day, hour, minute, second)

    def _ymd(self, date: str, twelve_hour: bool) -> tuple[int, int, int]:
        a, b, c, year_first = _date_fields(date)
        if year_first:
            return a, b, c
        order = self.fixed or self._auto(a, b, twelve_hour)
        if order == "ymd":
            raise ParseError(f"date {date!r} is not year-first (date_order=ymd)", code="bad_time")
        return (c, a, b) if order == "mdy" else (c, b, a)

    def _auto(self, a: int, b: int, twelve_hour: bool) -> str:
        seen = "dmy" if a > 12 else "mdy" if b > 12 else None
        if seen:
            self.learned = seen
            return seen
        return self.learned or ("mdy" if twelve_hour else "dmy")


@lru_cache(maxsize=4096)
def _date_fields(date: str) -> tuple[int, int, int, bool]:
    parts = _DATE_SEP.split(date)
    if len(parts) != 3:
        raise ParseError(f"bad date {date!r}", code="bad_time")
    return int(parts[0]), int(parts[1]), int(parts[2]), len(parts[0]) == 4


@lru_cache(maxsize=65536)
def label_name(text: str) -> str:
    """``(3)www(7)example(3)com(0)`` → ``www.example.com``; dotted forms pass through."""
    text = _COMPRESSION.sub("", text.strip().strip('"'))
    if not text.startswith("("):
        name = text.strip(".")
        return name or "."
    labels = _by_length(text)
    if labels is None:  # lengths that do not match the labels (anonymised logs): split on the markers
        labels = [part for part in _LABEL_LEN.split(text)[2::2] if part]
        if not labels:
            raise ParseError(f"bad label-form name {text[:80]!r}", code="bad_name")
    return ".".join(label.replace("\\", "\\\\").replace(".", "\\.") for label in labels) or "."


def _by_length(text: str) -> list[str] | None:
    """The labels of a label-form name read by their lengths, or ``None`` if they do not add up."""
    labels: list[str] = []
    at = 0
    while at < len(text):
        m = _LABEL_LEN.match(text, at)
        if not m:
            return None
        length = int(m[1])
        at = m.end()
        if length == 0:
            return labels if at == len(text) else None
        labels.append(text[at : at + length])
        at += length
    return None


class DetailRR:
    """One resource record of a Details block, filled line by line."""

    __slots__ = ("klass", "name", "section", "sub", "ttl", "type_code", "value")

    def __init__(self, section: str, name: str) -> None:
        self.section = section
        self.name = name
        self.type_code = -1
        self.klass = -1
        self.ttl: int | None = None
        self.value = ""
        self.sub: dict[str, str] = {}

    def rdata(self) -> str | None:
        """The presentation rdata, or ``None`` for a class/type this parser does not decode."""
        if self.klass != 1:
            return None
        if self.type_code in (1, 28):
            return self.value or None
        if self.type_code in NAME_TYPES:
            return label_name(self.value) if self.value else None
        if self.type_code == 6 and all(f in self.sub for f in SOA_FIELDS):
            mname, rname = (_absolute(label_name(self.sub[f])) for f in SOA_FIELDS[:2])
            return " ".join([mname, rname, *(self.sub[f] for f in SOA_FIELDS[2:])])
        return None

    def rrtype(self) -> str:
        return {1: "A", 28: "AAAA", 6: "SOA"}.get(self.type_code) or NAME_TYPES[self.type_code]


def _absolute(name: str) -> str:
    return name if name.endswith(".") else name + "."
