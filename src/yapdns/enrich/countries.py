"""The offline country data: ``@ip-location-db/geo-whois-asn-country`` (geofeeds, RIR whois, AS data).

Installed beside the AS numbers by ``scripts/build-as-data.sh`` (numeric
CSV files ``start,end,country``, gzip'd, in ``yapdns/enrich/data``; read by
``rangefile.py``, where a provider's geofeed range inside its registry
block wins inside it). For each range the publisher takes the country of a
geofeed (RFC 8805, what the network's operator says), else of the RIR's
whois, else of the AS that announces it: where the network is registered
or said to be, not a measured location. Licence: the package is CC0-1.0;
its RIR delegation data is the NRO's, CC BY 4.0 (attribution to nro.net).
"""

from __future__ import annotations

from importlib.abc import Traversable

from yapdns.enrich import rangefile
from yapdns.storage.context import IpContextRow

PACKAGE = "@ip-location-db/geo-whois-asn-country"
FILES = ("geo-whois-asn-country-ipv4-num.csv.gz", "geo-whois-asn-country-ipv6-num.csv.gz")
SOURCE = "ip-location-db country"
LICENCE = ("CC0-1.0 (ip-location-db, sapics: geofeeds, RIR whois and AS data merged); RIR statistics by the NRO "
           "(nro.net), CC BY 4.0")


def available() -> bool:
    """Whether the data was installed (``scripts/build-as-data.sh``)."""
    return CountryDataset.available()


class CountryDataset(rangefile.RangeDataset):
    """Country (ISO 3166-1 alpha-2) per address range, from the data shipped in the wheel."""

    PACKAGE, FILES, SOURCE, LICENCE = PACKAGE, FILES, SOURCE, LICENCE
    FIELDS = ("country",)
    WHAT = "country data"

    def __init__(self, folder: Traversable | None = None) -> None:
        self._ids: dict[str, int] = {}
        super().__init__(folder)
        self._codes = list(self._ids)

    def value_of(self, fields: list[str]) -> int | None:
        code = fields[0].strip().upper()
        return self._ids.setdefault(code, len(self._ids)) if len(code) == 2 and code.isalpha() else None

    def lookup(self, ip: str) -> IpContextRow | None:
        found = self.segment(ip)
        if found is None:
            return None
        table, i = found
        info = self._info
        return IpContextRow(ip=ip, source=info.source, data_date=info.data_date, country=self._codes[table.values[i]])
