"""The contract of an address dataset: a name, a build date, and a fast lookup.

A dataset answers ``lookup(ip)`` for a normalized address (a dotted quad or
RFC 5952 IPv6) with an ``IpContextRow`` carrying what it knows (any field may
be None), or None when it knows nothing. ``source`` and ``data_date`` name the
data as of its build, and change when the data does; the enricher keys its
progress on them, so new data is compared with what was kept before.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import msgspec

from yapdns.storage.context import IpContextRow


class DatasetInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What the docs and the dashboard show about a dataset."""

    source: str  # e.g. "GeoLite2-ASN" or "geoip2fast GeoLite2 country+AS"
    data_date: int  # epoch seconds of the build
    fields: tuple[str, ...]  # which of asn, as_name, prefix, country it can fill
    origin: str  # the package or file it comes from
    licence: str

    @property
    def identity(self) -> str:
        """``source@YYYY-MM-DD``: changes when the data changes."""
        day = dt.datetime.fromtimestamp(self.data_date, dt.UTC).date().isoformat()
        return f"{self.source}@{day}"


class IpDataset(Protocol):
    """An offline source of address context."""

    def info(self) -> DatasetInfo:
        """Its name, date, fields, origin and licence (current: after a reload, the new file's)."""
        ...

    def lookup(self, ip: str) -> IpContextRow | None:
        """What it says about ``ip``, or None."""
        ...
