"""The data model: observations in, records out (docs/architecture.md §1).

An ``Observation`` is what a source says happened, once or ``count`` times
between ``time_first`` and ``time_last``. Its ``rdata`` is the RRset the
source saw: a tuple of one or more RRs, or empty when the observation is a
negative answer (``rcode`` set) or a bare query (``rcode`` unset). Stored
aggregates are ``Record`` (one RR), ``RRsetRecord`` and ``NegativeRecord``.

Observations, records, RRsets and provenance rows carry two time windows,
traffic and zone files, as ``core/windows.py`` describes: ``time_first``/
``time_last`` (the traffic window, or the zone window when ``zone_only``),
``zone_time_first``/``zone_time_last`` (None when never seen in zone files).
"""

from __future__ import annotations

import enum
from typing import Literal

import msgspec

ObservationKind = Literal["answer", "negative", "query"]


class Evidence(enum.StrEnum):
    """How direct a sighting is."""

    DIRECT = "direct"  # a DNS answer seen on the wire or logged by the DNS server
    INDIRECT = "indirect"  # a name-to-address pairing seen by something else
    IMPORTED = "imported"  # taken from another pDNS database


class SampleRef(msgspec.Struct, frozen=True):
    """The sandbox analysis that produced an observation."""

    sha256: str
    task_id: str | None = None


class Observation(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One source's sighting of an RRset, a negative answer or a query."""

    rrname: str
    rrtype: str
    rdata: tuple[str, ...] = ()
    time_first: int
    time_last: int
    zone_time_first: int | None = None
    zone_time_last: int | None = None
    zone_only: bool = False
    count: int = 1
    ttl: int | None = None
    rcode: str | None = None
    bailiwick: str | None = None
    sensor_id: str | None = None
    source: str | None = None
    evidence: Evidence = Evidence.DIRECT
    sample: SampleRef | None = None

    @property
    def kind(self) -> ObservationKind:
        """``answer`` when rdata is present, ``negative`` when only an rcode is, else ``query``."""
        if self.rdata:
            return "answer"
        return "negative" if self.rcode else "query"


class Provenance(msgspec.Struct, frozen=True):
    """Who saw a record, by what evidence and through which parser, with its own aggregate."""

    sensor_id: str
    evidence: Evidence
    source: str
    time_first: int
    time_last: int
    count: int
    zone_time_first: int | None = None
    zone_time_last: int | None = None
    zone_only: bool = False


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """The stored aggregate of one RR: ``(rrname, rrtype, rdata)``."""

    rrname: str
    rrtype: str
    rdata: str
    time_first: int
    time_last: int
    count: int
    ttl_min: int | None = None
    ttl_max: int | None = None
    zone_time_first: int | None = None
    zone_time_last: int | None = None
    zone_only: bool = False


class RRsetRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The stored aggregate of one RRset: ``(rrname, rrtype, bailiwick, sorted rdata)``."""

    rrname: str
    rrtype: str
    bailiwick: str | None
    rdata: tuple[str, ...]
    time_first: int
    time_last: int
    count: int
    ttl_min: int | None = None
    ttl_max: int | None = None
    zone_time_first: int | None = None
    zone_time_last: int | None = None
    zone_only: bool = False


class NegativeRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The stored aggregate of negative answers (NXDOMAIN, NODATA, SERVFAIL...) for a name and type."""

    rrname: str
    rrtype: str
    rcode: str
    time_first: int
    time_last: int
    count: int


class QueryRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The stored aggregate of bare queries (a name asked for, answer unknown)."""

    rrname: str
    rrtype: str
    time_first: int
    time_last: int
    count: int


class SampleLink(msgspec.Struct, frozen=True, kw_only=True):
    """A sandbox sample whose analysis resolved a record."""

    sha256: str
    task_id: str | None
    time_first: int
    time_last: int
    count: int
