"""ASN and geolocation on the IP page, from the address context history the store keeps.

The dashboard invents nothing: it shows what the enrichment datasets said
(``server/enrichment/services.py`` picks the value to show) and only the
fields they filled. With no context kept for an address, no panel is shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec

from yapdns.enrich import asnumbers, builtin, countries
from yapdns.storage.context import IpContextRow


class IpContext(msgspec.Struct, frozen=True, kw_only=True):
    """What is known about an address beyond DNS; every field optional."""

    asn: int | None = None
    as_name: str | None = None
    prefix: str | None = None
    country: str | None = None
    source: str | None = None
    data_date: int | None = None

    @classmethod
    def of(cls, row: IpContextRow | None) -> IpContext | None:
        if row is None:
            return None
        return cls(asn=row.asn, as_name=row.as_name, prefix=row.prefix, country=row.country, source=row.source,
                   data_date=row.data_date)

    def fields(self) -> list[tuple[str, str]]:
        """``(label, value)`` of the fields that are present, in display order."""
        shown = [
            ("AS", f"AS{self.asn}" if self.asn is not None else None),
            ("AS name", self.as_name),
            ("Routed prefix", self.prefix),
            ("Country", self.country),
            ("Source", f"{self.source} ({_day(self.data_date)})" if self.source else None),
        ]
        return [(label, value) for label, value in shown if value]


class HistoryRow(msgspec.Struct, frozen=True):
    """One kept value of one source, and whether it differs from that source's previous value."""

    source: str
    data_day: str
    asn: int | None
    as_name: str | None
    prefix: str | None
    country: str | None
    recorded_day: str
    changed: bool


def _day(epoch: int | None) -> str:
    return dt.datetime.fromtimestamp(epoch or 0, dt.UTC).date().isoformat()


def history(rows: Sequence[IpContextRow]) -> list[HistoryRow]:
    """The rows in source then date order, each marked when it changed its source's value."""
    shown: list[HistoryRow] = []
    previous: dict[str, IpContextRow] = {}
    for row in sorted(rows, key=lambda r: (r.source, r.data_date)):
        before = previous.get(row.source)
        shown.append(HistoryRow(row.source, _day(row.data_date), row.asn, row.as_name, row.prefix, row.country,
                                _day(row.recorded_at), before is not None and before.value() != row.value()))
        previous[row.source] = row
    return shown


class Attribution(msgspec.Struct, frozen=True):
    """The credit a dataset's licence asks for where its results are shown: text, then a link."""

    text: str
    link: str
    url: str


ATTRIBUTIONS = {
    asnumbers.SOURCE: Attribution("AS numbers: IP to AS data by RouteViews, the NRO and DB-IP (CC BY 4.0):",
                                  "IP Geolocation by DB-IP", "https://db-ip.com"),
    countries.SOURCE: Attribution("Countries: RIR data by the NRO (CC BY 4.0), with geofeeds and AS data merged by "
                                  "ip-location-db (CC0):", "nro.net", "https://www.nro.net"),
    builtin.SOURCE: Attribution("This product includes GeoLite2 data created by MaxMind, available from",
                                "https://www.maxmind.com", "https://www.maxmind.com"),
}


def attributions(rows: Sequence[IpContextRow]) -> list[Attribution]:
    """The credits of the built-in datasets among ``rows`` (configured files are the operator's to credit)."""
    sources = {row.source for row in rows}
    return [credit for source, credit in ATTRIBUTIONS.items() if source in sources]
