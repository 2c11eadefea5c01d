"""What one Sysmon DNS query event (Event ID 22) says, as observations.

``SysmonQuery`` holds the four fields that matter (``QueryName``,
``QueryStatus``, ``QueryResults``, ``UtcTime``); ``observations`` turns them
into RRsets following what ``QueryResults`` can and cannot tell:

* tokens are ``;``-separated: ``::ffff:a.b.c.d`` (an IPv4 address returned
  v4-mapped) and plain ``a.b.c.d`` are A data, other addresses AAAA data,
  ``type:  5 <target>`` a CNAME, ``type:  12 <target>`` a PTR; ``type:  33``,
  ``type:  6`` and other types carry no usable data and are never filled in;
* CNAMEs form a chain in the order given, starting at the query name; the
  addresses belong to the chain's last name. After an SRV/SOA/other token
  the addresses belong to a name the event does not give (an SRV target,
  an SOA server), so they are dropped rather than misattributed;
* ``QueryStatus`` is a Win32/DNS status: 9003 → NXDOMAIN, 9501 → NODATA,
  9001/9002/9004..9010 → FORMERR, SERVFAIL, NOTIMP, REFUSED, YXDOMAIN,
  YXRRSET, NXRRSET, NOTAUTH, NOTZONE. Client-side failures (9502 bad packet,
  9701 no record, 1460 timeout, 1223 cancelled...) say nothing about the
  answer: the event is a bare query.

Sysmon does not log the query type: negative answers and bare queries use
``ANY`` as their type (meaning "type not logged"), except a successful
query whose only result is typed (``type:  33 ...``), which takes that type.
"""

from __future__ import annotations

import ipaddress

import msgspec

from yapdns.agent.parsers._logtime import iso_length, utc_epoch
from yapdns.agent.parsers.base import ParseError
from yapdns.core.model import Evidence, Observation
from yapdns.core.rrtypes import rrtype_text

SOURCE = "sysmon"
UNKNOWN_TYPE = "ANY"
STATUS_RCODES = {
    9001: "FORMERR",
    9002: "SERVFAIL",
    9003: "NXDOMAIN",
    9004: "NOTIMP",
    9005: "REFUSED",
    9006: "YXDOMAIN",
    9007: "YXRRSET",
    9008: "NXRRSET",
    9009: "NOTAUTH",
    9010: "NOTZONE",
    9501: "NODATA",
}


class SysmonQuery(msgspec.Struct):
    """The DNS fields of an Event ID 22 (exported field names)."""

    QueryName: str | None = None
    QueryStatus: str | int | None = None
    QueryResults: str | None = None
    UtcTime: str | None = None


class _Results:
    """``QueryResults`` split into chains and address sets."""

    def __init__(self, text: str) -> None:
        self.cnames: list[str] = []
        self.ptrs: list[str] = []
        self.v4: list[str] = []
        self.v6: list[str] = []
        self.other_type: int | None = None
        for token in text.split(";"):
            self._add(token.strip())

    def _add(self, token: str) -> None:
        if not token or token == "-":  # noqa: S105  (not a password: the empty-result marker)
            return
        if token.startswith("type:"):
            code, _, data = token[5:].strip().partition(" ")
            self._typed(code, data.strip())
        elif token.startswith("::ffff:") and "." in token:
            self.v4.append(_address(token[7:], 4))
        elif ":" in token:
            self.v6.append(_address(token, 6))
        else:
            self.v4.append(_address(token, 4))

    def _typed(self, code: str, data: str) -> None:
        if not code.isdigit() or int(code) > 65535:
            raise ParseError(f"bad QueryResults type {code[:10]!r}", code="bad_format")
        if code == "5" and data and self.other_type is None:
            self.cnames.append(data)
        elif code == "12" and data:
            self.ptrs.append(data)
        elif self.other_type is None:
            self.other_type = int(code)


def _address(text: str, version: int) -> str:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ParseError(f"bad address {text[:60]!r} in QueryResults", code="bad_format") from None
    if address.version != version:
        raise ParseError(f"bad address {text[:60]!r} in QueryResults", code="bad_format")
    return str(address)


def event_time(text: str | None) -> int:
    """``UtcTime`` (``YYYY-MM-DD HH:MM:SS.fff`` or ISO 8601 ``...Z``), always UTC."""
    if not text or not iso_length(text):
        raise ParseError(f"bad or missing UtcTime {text!r:.40}", code="bad_time")
    try:
        return utc_epoch(int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
                         int(text[17:19]))
    except ValueError:
        raise ParseError(f"bad UtcTime {text[:40]!r}", code="bad_time") from None


def _status(value: str | int | None) -> int:
    if isinstance(value, int):
        return value
    if value is None or not value.strip().isdigit():
        raise ParseError(f"bad or missing QueryStatus {value!r:.20}", code="bad_format")
    return int(value)


def observations(query: SysmonQuery) -> list[Observation]:
    """The observations of one event; raise ``ParseError`` if it is malformed."""
    if not query.QueryName:
        raise ParseError("event without QueryName", code="missing_field")
    when = event_time(query.UtcTime)
    status = _status(query.QueryStatus)
    results = _Results(query.QueryResults or "")
    out: list[Observation] = []

    def emit(name: str, rrtype: str, rdata: tuple[str, ...] = (), rcode: str | None = None) -> None:
        out.append(Observation(rrname=name, rrtype=rrtype, rdata=rdata, time_first=when, time_last=when,
                               rcode=rcode, source=SOURCE, evidence=Evidence.INDIRECT))

    owner = query.QueryName
    for target in results.cnames:
        emit(owner, "CNAME", (target,))
        owner = target
    if status == 0:
        if results.ptrs:
            emit(owner, "PTR", tuple(results.ptrs))
        if results.other_type is None and results.v4:
            emit(owner, "A", tuple(results.v4))
        if results.other_type is None and results.v6:
            emit(owner, "AAAA", tuple(results.v6))
        if not out:
            typed = results.other_type
            emit(owner, rrtype_text(typed) if typed else UNKNOWN_TYPE)
    else:
        emit(owner, UNKNOWN_TYPE, rcode=STATUS_RCODES.get(status))
    return out
