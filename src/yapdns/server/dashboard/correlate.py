"""Correlations for the domain and IP pages, each a handful of index-bounded lookups.

* ``subdomain_page``: the distinct names under a domain, from one cursor page of
  its left-wildcard records;
* ``related_names``: names that share addresses with a domain (its most
  recently seen A/AAAA rdata, each looked up by exact IP);
* ``neighbours``: the addresses of an IP's /24 (IPv4) or /48 (IPv6) and the
  names on each, from one page of a CIDR lookup.

Every helper says whether its answer was cut short (``limited``), so pages
can offer the full search instead of implying completeness.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from yapdns.core import rrtypes
from yapdns.core.model import Record
from yapdns.storage.base import Store
from yapdns.storage.query import IpRange, NameMatch, RecordQuery

SUBDOMAIN_ROWS = 250
RELATED_IPS = 10
RELATED_ROWS_PER_IP = 200
NEIGHBOUR_ROWS = 1000


@dataclass
class NameGroup:
    """Records of one name (or one address) folded together."""

    key: str
    records: int = 0
    count: int = 0
    time_first: int = 0
    time_last: int = 0
    via: set[str] = field(default_factory=set)

    def add(self, record: Record, via: str | None = None) -> None:
        self.records += 1
        self.count += record.count
        self.time_first = min(self.time_first or record.time_first, record.time_first)
        self.time_last = max(self.time_last, record.time_last)
        if via is not None:
            self.via.add(via)

    @property
    def via_sorted(self) -> list[str]:
        return sorted(self.via)


@dataclass
class Grouped:
    groups: list[NameGroup]
    limited: bool


def _fold(records: Sequence[Record], key: str) -> dict[str, NameGroup]:
    groups: dict[str, NameGroup] = {}
    for record in records:
        value = getattr(record, key)
        groups.setdefault(value, NameGroup(value)).add(record, record.rrname if key == "rdata" else None)
    return groups


@dataclass
class SubdomainPage:
    """The names of one cursor page of a domain's left-wildcard records, in the store's (reversed-name) order,
    so a zone's names come grouped by parent; ``next_cursor`` continues after them."""

    groups: list[NameGroup]
    next_cursor: str | None
    first: bool


def subdomain_page(store: Store, name: str, cursor: str | None = None) -> SubdomainPage:
    """One page of the names under ``name`` (``SUBDOMAIN_ROWS`` records folded by name)."""
    page = store.records(RecordQuery(rrname=NameMatch("suffix", name), limit=SUBDOMAIN_ROWS, cursor=cursor))
    return SubdomainPage(list(_fold(page.rows, "rrname").values()), page.next_cursor if page.limited else None,
                         cursor is None)


def address_records(records: Sequence[Record]) -> list[str]:
    """The A/AAAA rdata of ``records``, most recently seen first."""
    ips = [r for r in records if rrtypes.rrtype_code(r.rrtype) in rrtypes.IP_TYPES]
    return [r.rdata for r in sorted(ips, key=lambda r: -r.time_last)]


def related_names(store: Store, name: str, records: Sequence[Record], limit: int = 50) -> Grouped:
    """Other names seen on the same addresses as ``name``."""
    groups: dict[str, NameGroup] = {}
    limited = False
    ips = address_records(records)
    for ip in ips[:RELATED_IPS]:
        page = store.records(RecordQuery(rdata_ip=IpRange.parse(ip), limit=RELATED_ROWS_PER_IP))
        limited = limited or page.limited
        for record in page.rows:
            if record.rrname != name:
                groups.setdefault(record.rrname, NameGroup(record.rrname)).add(record, ip)
    ordered = sorted(groups.values(), key=lambda g: (-len(g.via), -g.time_last, g.key))
    return Grouped(ordered[:limit], limited or len(ips) > RELATED_IPS or len(ordered) > limit)


def network_of(addr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The /24 of an IPv4 address, or the /48 of an IPv6 address."""
    ip = ipaddress.ip_address(addr)
    return ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 48}", strict=False)


def neighbours(store: Store, addr: str, limit: int = 100) -> Grouped:
    """The addresses in ``addr``'s network that have records, with their names."""
    net = network_of(addr)
    page = store.records(RecordQuery(rdata_ip=IpRange.parse(str(net)), limit=NEIGHBOUR_ROWS))
    groups = _fold(page.rows, "rdata")
    ordered = sorted(groups.values(), key=lambda g: int(ipaddress.ip_address(g.key)))
    return Grouped(ordered[:limit], page.limited or len(ordered) > limit)
