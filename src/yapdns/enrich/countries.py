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

from array import array
from importlib.abc import Traversable

from yapdns.core.errors import ConfigurationError
from yapdns.enrich import rangefile
from yapdns.enrich.dataset import DatasetInfo
from yapdns.storage.context import IpContextRow

PACKAGE = "@ip-location-db/geo-whois-asn-country"
FILES = ("geo-whois-asn-country-ipv4-num.csv.gz", "geo-whois-asn-country-ipv6-num.csv.gz")
SOURCE = "ip-location-db country"
LICENCE = ("CC0-1.0 (ip-location-db, sapics: geofeeds, RIR whois and AS data merged); RIR statistics by the NRO "
           "(nro.net), CC BY 4.0")


def available() -> bool:
    """Whether the data was installed (``scripts/build-as-data.sh``)."""
    return rangefile.has_files(rangefile.data_dir(), FILES)


class CountryDataset:
    """Country (ISO 3166-1 alpha-2) per address range, from the data shipped in the wheel."""

    def __init__(self, folder: Traversable | None = None) -> None:
        folder = folder or rangefile.data_dir()
        if not rangefile.has_files(folder, FILES):
            raise ConfigurationError(f"no country data in {folder}: run scripts/build-as-data.sh")
        ids: dict[str, int] = {}

        def value_of(fields: list[str]) -> int | None:
            code = fields[0].strip().upper()
            return ids.setdefault(code, len(ids)) if len(code) == 2 and code.isalpha() else None

        self._v4 = rangefile.load(folder / FILES[0], rangefile.RangeTable(array("I"), array("I")), value_of)
        self._v6 = rangefile.load(folder / FILES[1], rangefile.RangeTable([], []), value_of)
        self._codes = list(ids)
        self.nested = self._v4.nested + self._v6.nested
        version, integrity, when = rangefile.built(folder, PACKAGE)
        self._info = DatasetInfo(source=SOURCE, data_date=when, fields=("country",),
                                 origin=f"npm {PACKAGE} {version} ({integrity[:20]}…)", licence=LICENCE)

    def info(self) -> DatasetInfo:
        return self._info

    def lookup(self, ip: str) -> IpContextRow | None:
        found = rangefile.address(ip)
        if found is None:
            return None
        table = self._v6 if found[0] else self._v4
        i = table.find(found[1])
        if i < 0:
            return None
        info = self._info
        return IpContextRow(ip=ip, source=info.source, data_date=info.data_date, country=self._codes[table.values[i]])

    def __len__(self) -> int:
        return len(self._v4.starts) + len(self._v6.starts)
