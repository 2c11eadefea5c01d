"""Fast-flux score of a name from its stored records (Holz et al., NDSS 2008).

Holz, Gorecki, Rieck and Freiling, "Measuring and Detecting Fast-Flux
Service Networks" (NDSS 2008), score a domain by a linear function of what
its lookups returned: ``f = 1.32 * n_A + 18.54 * n_ASN + 0 * n_NS - 142.38``,
flagged as fast-flux when ``f > 0``, where ``n_A`` is the number of
distinct A records, ``n_ASN`` the number of distinct autonomous systems of
those addresses and ``n_NS`` the number of NS records (weight 0 in their
fit). Here, over the records of the name last seen within the window:

* ``n_A``: distinct A and AAAA rdata;
* ``n_ASN``: YAPDNS has no AS data yet, so the number of distinct networks
  stands in for it: distinct IPv4 /16 and IPv6 /32 prefixes (addresses of
  one AS usually share few such prefixes; the proxy is documented in
  docs/detection.md and replaced by real ASNs when enrichment lands);
* ``n_NS``: NS records of the registered domain (shown, weight 0);
* ``ttl_min``: the lowest TTL seen (shown; the paper found TTL alone does not
  separate fast-flux from CDNs, so it is not in the score).
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from yapdns.server.detection.nod import registered_domain
from yapdns.storage.base import Store
from yapdns.storage.query import NameMatch, RecordQuery, TimeFence, TypeFilter

W_A, W_NET, W_NS, BIAS = 1.32, 18.54, 0.0, 142.38
WINDOW = 7 * 86400
RECORDS_MAX = 5000


@dataclass(frozen=True)
class FluxScore:
    """A name's flux score and the counts it is made of."""

    name: str
    n_a: int
    n_networks: int
    n_ns: int
    ttl_min: int | None
    score: float

    @property
    def flux(self) -> bool:
        return self.score > 0

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "score": round(self.score, 2),
            "flux": self.flux,
            "distinct_addresses": self.n_a,
            "distinct_networks": self.n_networks,
            "ns_records": self.n_ns,
            "ttl_min": self.ttl_min,
        }


def network_of(address: str) -> str | None:
    """The /16 (IPv4) or /32 (IPv6) an address lies in, standing in for its AS."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return str(ipaddress.ip_network(f"{ip}/{16 if ip.version == 4 else 32}", strict=False))


def score(n_a: int, n_networks: int, n_ns: int) -> float:
    """Holz et al.'s flux-score with the network count for n_ASN."""
    return W_A * n_a + W_NET * n_networks + W_NS * n_ns - BIAS


def _seen_since(store: Store, name: str, since: int) -> bool:
    """Whether any record of ``name`` may have been last seen at or after ``since``, by its rollup (cheap), so an
    old name with many records is not scanned for a window it has no record in."""
    rolled = store.name_rollup(name, seen_by=False)
    latest = max((t for t in (rolled.time_last, rolled.zone_time_last) if t is not None), default=None)
    return not rolled.exact or (latest is not None and latest >= since)


def flux_score(store: Store, name: str, window: int = WINDOW, now: int | None = None) -> FluxScore:
    """The score of ``name`` over the records last seen in the past ``window`` seconds."""
    since = (now or int(time.time())) - window
    fence = TimeFence(last_after=since)
    exact = NameMatch("exact", name)
    query = RecordQuery(rrname=exact, types=TypeFilter.parse("A,AAAA"), fence=fence, limit=RECORDS_MAX)
    addresses = {r.rdata: r for r in store.iter_records(query)} if _seen_since(store, name, since) else {}
    networks = {n for n in map(network_of, addresses) if n}
    ttls = [r.ttl_min for r in addresses.values() if r.ttl_min is not None]
    domain = registered_domain(name) or name
    ns_query = RecordQuery(rrname=NameMatch("exact", domain), types=TypeFilter.parse("NS"), fence=fence, limit=100)
    n_ns = len(store.records(ns_query).rows)
    value = score(len(addresses), len(networks), n_ns)
    return FluxScore(name, len(addresses), len(networks), n_ns, min(ttls) if ttls else None, value)
