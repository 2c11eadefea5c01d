"""ASN and geolocation shown on the IP page, when something provides them.

The dashboard invents nothing: it asks an optional ``IpContextSource`` (an
enrichment worker will provide one, e.g. by making the store answer
``ip_context``) and shows only the fields that source filled. With no
source, or no answer for an address, the panel is not shown at all.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import msgspec


class IpContext(msgspec.Struct, frozen=True, kw_only=True):
    """What is known about an address beyond DNS; every field optional."""

    asn: int | None = None
    as_name: str | None = None
    prefix: str | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    source: str | None = None
    updated_at: int | None = None

    def fields(self) -> list[tuple[str, str]]:
        """``(label, value)`` of the fields that are present, in display order."""
        shown = [
            ("AS", f"AS{self.asn}" if self.asn is not None else None),
            ("AS name", self.as_name),
            ("Routed prefix", self.prefix),
            ("Country", self.country),
            ("Region", self.region),
            ("City", self.city),
            ("Source", self.source),
        ]
        return [(label, value) for label, value in shown if value]


@runtime_checkable
class IpContextSource(Protocol):
    def ip_context(self, ip: str) -> IpContext | None:
        """What this source knows about ``ip``, or None."""
        ...


def lookup(source: object, ip: str) -> IpContext | None:
    """Ask ``source`` (usually the store) if it can answer; None when it cannot or knows nothing."""
    if not isinstance(source, IpContextSource):
        return None
    found = source.ip_context(ip)
    return found if found is not None and found.fields() else None
