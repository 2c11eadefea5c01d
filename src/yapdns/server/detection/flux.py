"""Fast-flux score of a name from its stored records (Holz et al., NDSS 2008).

Holz, Gorecki, Rieck and Freiling, "Measuring and Detecting Fast-Flux
Service Networks" (NDSS 2008), score a domain by a linear function of what
its lookups returned: ``f = 1.32 * n_A + 18.54 * n_ASN + 0 * n_NS - 142.38``,
flagged as fast-flux when ``f > 0``, where ``n_A`` is the number of
distinct A records, ``n_ASN`` the number of distinct autonomous systems of
those addresses and ``n_NS`` the number of NS records (weight 0 in their
fit). Here, over the records of the name last seen within the window:

* ``n_A``: distinct A and AAAA rdata;
* ``n_ASN``: distinct autonomous systems of those addresses, from the
  enrichment's kept context (``Store.ip_context``, the value as of each
  record's last sighting, ``enrichment.services.as_of``): the AS number where
  a dataset gives one, else the AS name (geoip2fast's GeoLite2 data, opt-in,
  has names only), else, for an address no dataset knows, its IPv4 /16 or IPv6
  /32 network as a proxy; ``basis`` counts the addresses of each kind, so the
  output says which one the count rests on;
* ``n_NS``: NS records of the zone the name is in (the nearest of the name
  and its parents up to the registered domain with NS records; shown,
  weight 0);
* ``ttl_min``: the lowest TTL seen (shown; the paper found TTL alone does not
  separate fast-flux from CDNs, so it is not in the score).

A name with no address record in the window but CNAME records is scored as
its lookup answers: by the addresses of its CNAME targets, followed up to
``CHAIN_MAX`` hops (at most ``TARGETS_MAX`` targets a hop); ``via`` names
the targets whose addresses were counted.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from dataclasses import dataclass, field

from yapdns.core.model import Record
from yapdns.server.detection.nod import registered_domain
from yapdns.server.enrichment.services import as_of
from yapdns.storage.base import Store
from yapdns.storage.context import IpContextRow
from yapdns.storage.query import NameMatch, RecordQuery, TimeFence, TypeFilter

W_A, W_ASN, W_NS, BIAS = 1.32, 18.54, 0.0, 142.38
WINDOW = 7 * 86400
RECORDS_MAX = 5000
BASES = ("asn", "as_name", "network")
CHAIN_MAX = 3
TARGETS_MAX = 20


@dataclass(frozen=True)
class FluxScore:
    """A name's flux score and the counts it is made of."""

    name: str
    n_a: int
    n_asn: int
    n_ns: int
    ttl_min: int | None
    score: float
    basis: dict[str, int] = field(default_factory=dict)  # addresses counted by asn, as_name or network
    via: tuple[str, ...] = ()  # CNAME targets whose addresses were counted (the name has none of its own)

    @property
    def basis_label(self) -> str:
        """``asn``, ``as_name`` or ``network`` when every address was counted so, else ``mixed``."""
        used = [kind for kind in BASES if self.basis.get(kind)]
        return used[0] if len(used) == 1 else ("mixed" if used else "none")

    @property
    def flux(self) -> bool:
        return self.score > 0

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "score": round(self.score, 2),
            "flux": self.flux,
            "distinct_addresses": self.n_a,
            "distinct_asns": self.n_asn,
            "asn_basis": self.basis_label,
            "addresses_by_basis": {kind: self.basis.get(kind, 0) for kind in BASES},
            "ns_records": self.n_ns,
            "ttl_min": self.ttl_min,
            "via_cname": list(self.via),
        }


def network_of(address: str) -> str | None:
    """The /16 (IPv4) or /32 (IPv6) an address lies in, standing in for its AS (None: not an address)."""
    try:
        if ":" in address:
            head = socket.inet_pton(socket.AF_INET6, address)[:4]
            return f"{socket.inet_ntop(socket.AF_INET6, head + bytes(12))}/32"
        packed = socket.inet_pton(socket.AF_INET, address)
    except OSError:
        return None
    return f"{packed[0]}.{packed[1]}.0.0/16"


def as_key(address: str, rows: list[IpContextRow] | None, when: int | None = None) -> tuple[str, str] | None:
    """What stands for ``address``'s AS, and its basis: ``AS13335`` (asn), ``name:X`` (as_name) or the
    network (network: no dataset knows the address); None for text that is not an address."""
    found = as_of(rows, when) if rows else None
    if found is not None and found.asn is not None:
        return f"AS{found.asn}", "asn"
    if found is not None and found.as_name:
        return f"name:{found.as_name}", "as_name"
    net = network_of(address)
    return (f"net:{net}", "network") if net else None


def as_keys(store: Store, records: list[Record]) -> dict[str, tuple[str, str]]:
    """Each record's address's AS key (``as_key``), from one bulk read of the kept context."""
    known = store.ip_context(list({r.rdata for r in records})) if records else {}
    found: dict[str, tuple[str, str]] = {}
    for r in records:
        key = as_key(r.rdata, known.get(r.rdata), r.time_last)
        if key is not None:
            found[r.rdata] = key
    return found


def ns_count(store: Store, name: str, fence: TimeFence) -> int:
    """The NS records of the zone a lookup of ``name`` would end in: the nearest of the name and its parents, up
    to its registered domain, with NS records seen in the window (0 when none is)."""
    domain = registered_domain(name) or name
    labels = name.split(".")
    for i in range(len(labels)):
        zone = ".".join(labels[i:])
        query = RecordQuery(rrname=NameMatch("exact", zone), types=TypeFilter.parse("NS"), fence=fence, limit=100)
        found = len(store.records(query).rows)
        if found or zone == domain or len(zone) <= len(domain):
            return found
    return 0


def score(n_a: int, n_asn: int, n_ns: int) -> float:
    """Holz et al.'s flux-score."""
    return W_A * n_a + W_ASN * n_asn + W_NS * n_ns - BIAS


def _seen_since(store: Store, name: str, since: int) -> bool:
    """Whether any record of ``name`` may have been last seen at or after ``since``, by its rollup (cheap), so an
    old name with many records is not scanned for a window it has no record in."""
    rolled = store.name_rollup(name, seen_by=False)
    latest = max((t for t in (rolled.time_last, rolled.zone_time_last) if t is not None), default=None)
    return not rolled.exact or (latest is not None and latest >= since)


def _addresses(store: Store, name: str, fence: TimeFence) -> dict[str, Record]:
    """The distinct A/AAAA records of ``name`` last seen within ``fence``, by rdata."""
    query = RecordQuery(rrname=NameMatch("exact", name), types=TypeFilter.parse("A,AAAA"), fence=fence,
                        limit=RECORDS_MAX)
    return {r.rdata: r for r in store.iter_records(query)}


def cname_targets(store: Store, name: str, fence: TimeFence) -> list[str]:
    """The CNAME targets of ``name`` seen within ``fence`` (at most ``TARGETS_MAX``)."""
    query = RecordQuery(rrname=NameMatch("exact", name), types=TypeFilter.parse("CNAME"), fence=fence,
                        limit=TARGETS_MAX)
    return [r.rdata for r in store.records(query).rows]


def _through_cnames(store: Store, name: str, fence: TimeFence) -> tuple[dict[str, Record], tuple[str, ...]]:
    """The addresses a lookup of a CNAME-only name ends in, and the targets that held them."""
    addresses: dict[str, Record] = {}
    via: list[str] = []
    seen = {name}
    hop = cname_targets(store, name, fence)
    for _ in range(CHAIN_MAX):
        following: list[str] = []
        for target in (t for t in hop if t not in seen):
            seen.add(target)
            found = _addresses(store, target, fence)
            if found:
                via.append(target)
                addresses.update(found)
            else:
                following += cname_targets(store, target, fence)
        if not following or len(addresses) >= RECORDS_MAX:
            break
        hop = following[:TARGETS_MAX]
    return addresses, tuple(via)


def flux_score(store: Store, name: str, window: int = WINDOW, now: int | None = None) -> FluxScore:
    """The score of ``name`` over the records last seen in the past ``window`` seconds."""
    since = (now or int(time.time())) - window
    fence = TimeFence(last_after=since)
    addresses: dict[str, Record] = {}
    via: tuple[str, ...] = ()
    if _seen_since(store, name, since):
        addresses = _addresses(store, name, fence)
        if not addresses:
            addresses, via = _through_cnames(store, name, fence)
    keys = as_keys(store, list(addresses.values()))
    basis = Counter(kind for _, kind in keys.values())
    ttls = [r.ttl_min for r in addresses.values() if r.ttl_min is not None]
    n_ns = ns_count(store, name, fence)
    n_asn = len({key for key, _ in keys.values()})
    value = score(len(addresses), n_asn, n_ns)
    return FluxScore(name, len(addresses), n_asn, n_ns, min(ttls) if ttls else None, value, dict(basis), via)
