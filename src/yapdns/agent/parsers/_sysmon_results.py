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
``TYPE0`` as their type (``rrtypes.UNRECORDED``: "type not logged"), except a successful
query whose only result is typed (``type:  33 ...``), which takes that type.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import msgspec

from yapdns.agent.parsers._addr import canonical_ip
from yapdns.agent.parsers._logtime import iso_length, utc_epoch
from yapdns.agent.parsers.base import ParseError
from yapdns.core.digits import ascii_digits
from yapdns.core.model import Evidence, Observation
from yapdns.core.rrtypes import UNRECORDED, rrtype_text

SOURCE = "sysmon"
UNKNOWN_TYPE = UNRECORDED
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


class Results(NamedTuple):
    """``QueryResults`` split into a CNAME chain, PTR targets and address sets."""

    cnames: tuple[str, ...]
    ptrs: tuple[str, ...]
    v4: tuple[str, ...]
    v6: tuple[str, ...]
    other_type: int | None


_NO_RESULTS = Results((), (), (), (), None)


@lru_cache(maxsize=65536)
def parse_results(text: str) -> Results:
    """Split ``QueryResults`` (cached: the same answers come back again and again)."""
    cnames: list[str] = []
    ptrs: list[str] = []
    v4: list[str] = []
    v6: list[str] = []
    other: int | None = None
    for raw in text.split(";"):
        token = raw.strip()
        if not token or token == "-":  # noqa: S105  (not a password: the empty-result marker)
            continue
        if token.startswith("type:"):
            code, _, data = token[5:].strip().partition(" ")
            data = data.strip()
            if not ascii_digits(code) or int(code) > 65535:
                raise ParseError(f"bad QueryResults type {code[:10]!r}", code="bad_format")
            if code == "5" and data and other is None:
                cnames.append(data)
            elif code == "12" and data:
                ptrs.append(data)
            elif other is None:
                other = int(code)
        elif token.startswith("::ffff:") and "." in token:
            v4.append(_address(token[7:], "A"))
        elif ":" in token:
            v6.append(_address(token, "AAAA"))
        else:
            v4.append(_address(token, "A"))
    return Results(tuple(cnames), tuple(ptrs), tuple(v4), tuple(v6), other)


def _address(text: str, rrtype: str) -> str:
    address = canonical_ip(text, rrtype)
    if address is None:
        raise ParseError(f"bad address {text[:60]!r} in QueryResults", code="bad_format")
    return address


_hours: dict[str, int] = {}


def event_time(text: str | None) -> int:
    """``UtcTime`` (``YYYY-MM-DD HH:MM:SS.fff`` or ISO 8601 ``...Z``), always UTC; cached per hour."""
    if text is None:
        raise ParseError("missing UtcTime", code="bad_time")
    base = _hours.get(text[:13])
    if base is None:
        base = _hour_start(text)
    try:
        minute, second = int(text[14:16]), int(text[17:19])
    except ValueError:
        raise ParseError(f"bad UtcTime {text[:40]!r}", code="bad_time") from None
    if not (0 <= minute <= 59 and 0 <= second <= 60) or text[13] != ":":
        raise ParseError(f"bad UtcTime {text[:40]!r}", code="bad_time")
    return base + minute * 60 + (second if second < 60 else 59)


def _hour_start(text: str) -> int:
    if not iso_length(text) or text[16] != ":":
        raise ParseError(f"bad or missing UtcTime {text!r:.40}", code="bad_time")
    try:
        base = utc_epoch(int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), 0, 0)
    except ValueError:
        raise ParseError(f"bad UtcTime {text[:40]!r}", code="bad_time") from None
    if len(_hours) > 4096:
        _hours.clear()
    _hours[text[:13]] = base
    return base


def _status(value: str | int | None) -> int:
    if value == "0":
        return 0
    if isinstance(value, int):
        return value
    if value is None or not ascii_digits(value.strip()):
        raise ParseError(f"bad or missing QueryStatus {value!r:.20}", code="bad_format")
    return int(value)


def observations(query: SysmonQuery) -> list[Observation]:
    """The observations of one event; raise ``ParseError`` if it is malformed."""
    name = query.QueryName
    if not name:
        raise ParseError("event without QueryName", code="missing_field")
    when = event_time(query.UtcTime)
    status = _status(query.QueryStatus)
    text = query.QueryResults
    results = parse_results(text) if text and text != "-" else _NO_RESULTS
    out = []
    for target in results.cnames:
        out.append(_observation(name, "CNAME", (target,), when))
        name = target
    if status != 0:
        out.append(_observation(name, UNKNOWN_TYPE, (), when, STATUS_RCODES.get(status)))
        return out
    if results.ptrs:
        out.append(_observation(name, "PTR", results.ptrs, when))
    if results.other_type is None:
        if results.v4:
            out.append(_observation(name, "A", results.v4, when))
        if results.v6:
            out.append(_observation(name, "AAAA", results.v6, when))
    if not out:
        typed = results.other_type
        out.append(_observation(name, rrtype_text(typed) if typed else UNKNOWN_TYPE, (), when))
    return out


_INDIRECT = Evidence.INDIRECT


def _observation(name: str, rrtype: str, rdata: tuple[str, ...], when: int, rcode: str | None = None) -> Observation:
    if rcode is None:
        return Observation(rrname=name, rrtype=rrtype, rdata=rdata, time_first=when, time_last=when,
                           source=SOURCE, evidence=_INDIRECT)
    return Observation(rrname=name, rrtype=rrtype, rdata=rdata, time_first=when, time_last=when, rcode=rcode,
                       source=SOURCE, evidence=_INDIRECT)
