"""DNSDB API v2 through Farsight/DomainTools' ``dnsdb2`` client: ``lookup_rrset`` for a name, ``lookup_rdata_ip``
for an address. A row is an RRset with its own first/last/count, in traffic and/or zone-file windows; a row seen
only in zone files becomes a zone-only observation (docs/architecture.md §1)."""

from __future__ import annotations

from typing import Any

import dnsdb2

from yapdns.core.model import Observation
from yapdns.upstream.base import UpstreamAnswer, UpstreamError, as_int, imported


def row_observation(row: dict[str, Any]) -> Observation | None:
    """One DNSDB row as an observation, or None when it lacks what one needs."""
    rdata = row.get("rdata")
    rdata = [rdata] if isinstance(rdata, str) else rdata
    first, last = as_int(row.get("time_first")), as_int(row.get("time_last"))
    zfirst, zlast = as_int(row.get("zone_time_first")), as_int(row.get("zone_time_last"))
    if not isinstance(rdata, list) or not all(isinstance(r, str) for r in rdata) or not rdata:
        return None
    if not isinstance(row.get("rrname"), str) or not isinstance(row.get("rrtype"), str):
        return None
    zone = {"zone_time_first": zfirst, "zone_time_last": zlast} if zfirst is not None and zlast is not None else {}
    if first is None or last is None:
        if zfirst is None or zlast is None:
            return None
        first, last, zone["zone_only"] = zfirst, zlast, True
    bailiwick = row.get("bailiwick") if isinstance(row.get("bailiwick"), str) else None
    return imported("dnsdb", row["rrname"], row["rrtype"], rdata, first, last, as_int(row.get("count")) or 1,
                    bailiwick=bailiwick, **zone)


class DnsdbConnector:
    name = "dnsdb"

    def __init__(self, key: str, server: str, timeout: float = 30) -> None:
        self.client = dnsdb2.Client(key, server, swclient="yapdns", timeout=timeout)

    def fetch(self, query: str, *, is_ip: bool, limit: int, requests: int = 1) -> UpstreamAnswer:
        try:
            rows = list(self.client.lookup_rdata_ip(query, limit=limit) if is_ip
                        else self.client.lookup_rrset(query, limit=limit, ignore_limited=True))
            quota = self.client.rate_limit().get("rate")
        except dnsdb2.DnsdbException as exc:
            raise UpstreamError(f"DNSDB: {type(exc).__name__}: {exc}") from exc
        found = [row_observation(r) for r in rows if isinstance(r, dict)]
        observations = [o for o in found if o is not None]
        return UpstreamAnswer(observations, len(rows) - len(observations), quota if isinstance(quota, dict) else None)
