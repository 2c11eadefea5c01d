"""Building normalized observations and queries for the contract suite."""

from __future__ import annotations

from yapdns.core.model import Evidence, Observation, SampleRef
from yapdns.core.normalize import normalize_observation
from yapdns.storage.query import IpRange, NameMatch, RecordQuery, TimeFence, TypeFilter

T0 = 1_700_000_000


def obs(
    name: str,
    rrtype: str,
    *rdata: str,
    first: int = T0,
    last: int | None = None,
    count: int = 1,
    ttl: int | None = None,
    sensor: str | None = "s1",
    evidence: Evidence = Evidence.DIRECT,
    source: str | None = "zeek",
    rcode: str | None = None,
    bailiwick: str | None = None,
    sample: str | None = None,
    zone: tuple[int, int] | None = None,
    traffic: bool = True,
) -> Observation:
    """One observation, passed through the real normalization gate.

    ``zone`` is a zone-file window; ``traffic=False`` makes a zone-only sighting (its times are the zone times).
    """
    if not traffic:
        assert zone is not None
        first, last = zone
    return normalize_observation(
        Observation(
            rrname=name,
            rrtype=rrtype,
            rdata=rdata,
            time_first=first,
            time_last=first if last is None else last,
            zone_time_first=zone[0] if zone else None,
            zone_time_last=zone[1] if zone else None,
            zone_only=not traffic,
            count=count,
            ttl=ttl,
            sensor_id=sensor,
            evidence=evidence,
            source=source,
            rcode=rcode,
            bailiwick=bailiwick,
            sample=SampleRef(sample) if sample else None,
        )
    )


def zone_only(name: str, rrtype: str, *rdata: str, zone: tuple[int, int], **kw: object) -> Observation:
    """A sighting in zone files only (as a DNSDB or COF export of zone data gives it)."""
    return obs(name, rrtype, *rdata, zone=zone, traffic=False, **kw)  # type: ignore[arg-type]


def by_name(text: str, **kw: object) -> RecordQuery:
    return RecordQuery(rrname=NameMatch.parse(text), **kw)  # type: ignore[arg-type]


def by_ip(text: str, **kw: object) -> RecordQuery:
    return RecordQuery(rdata_ip=IpRange.parse(text), **kw)  # type: ignore[arg-type]


def by_target(text: str, **kw: object) -> RecordQuery:
    return RecordQuery(rdata_name=NameMatch.parse(text), **kw)  # type: ignore[arg-type]


def types(text: str) -> TypeFilter:
    return TypeFilter.parse(text)


def fence(**kw: int) -> TimeFence:
    return TimeFence(**kw)
