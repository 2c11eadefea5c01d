"""The offline AS numbers: RouteViews, NRO and DB-IP data from the npm package ``@ip-location-db/asn``.

geoip2fast's data (``builtin.py``) names the AS but drops its number. This
dataset gives it: ``scripts/build-as-data.sh`` installs the pinned package
(``asdata/package-lock.json``) and copies its numeric CSV files
(``start,end,asn,organisation``, inclusive ranges, one file per family)
gzip'd into ``yapdns/enrich/data``; the wheel ships that folder, so an
install enriches without any download (``rangefile.py`` reads them).

What it gives: AS number, AS name, and the range as a prefix when the range
is exactly one CIDR block and no other range cuts it (about four in five;
ranges merged per AS are not, and then ``prefix`` stays None). Licence:
CC BY 4.0 (RouteViews, NRO, DB-IP: attribution required, shown wherever the
dataset is listed and on the IP page).
"""

from __future__ import annotations

import socket
from importlib.abc import Traversable

from yapdns.enrich import rangefile
from yapdns.storage.context import IpContextRow

PACKAGE = "@ip-location-db/asn"
FILES = ("asn-ipv4-num.csv.gz", "asn-ipv6-num.csv.gz")
SOURCE = "ip-location-db AS"  # RouteViews, NRO and DB-IP data: credited in the licence and on the IP page
LICENCE = ("CC BY 4.0: IP to AS data by RouteViews (routeviews.org), the NRO (nro.net) and DB-IP "
           "(IP Geolocation by DB-IP, https://db-ip.com), merged by ip-location-db (sapics)")
_V4_TOP = 2**32


def available() -> bool:
    """Whether the data was installed (``scripts/build-as-data.sh``, run by ``scripts/install``)."""
    return AsNumberDataset.available()


def _prefix(start: int, end: int) -> str | None:
    """``start`` to ``end`` as CIDR text when it is exactly one block, else None."""
    size = end - start + 1
    if size & (size - 1) or start % size:
        return None
    if end < _V4_TOP:
        return f"{socket.inet_ntoa(start.to_bytes(4, 'big'))}/{32 - size.bit_length() + 1}"
    return f"{socket.inet_ntop(socket.AF_INET6, start.to_bytes(16, 'big'))}/{128 - size.bit_length() + 1}"


class AsNumberDataset(rangefile.RangeDataset):
    """AS number and name per address range, from the ``@ip-location-db/asn`` data shipped in the wheel."""

    PACKAGE, FILES, SOURCE, LICENCE = PACKAGE, FILES, SOURCE, LICENCE
    FIELDS = ("asn", "as_name", "prefix")
    WHAT = "AS data"

    def __init__(self, folder: Traversable | None = None) -> None:
        self._ids: dict[tuple[int, str], int] = {}
        super().__init__(folder)
        self._as = list(self._ids)

    def value_of(self, fields: list[str]) -> int | None:
        asn = int(fields[0])
        return None if asn == 0 else self._ids.setdefault((asn, fields[1]), len(self._ids))  # AS0: not announced

    def lookup(self, ip: str) -> IpContextRow | None:
        found = self.segment(ip)
        if found is None:
            return None
        table, i = found
        asn, name = self._as[table.values[i]]
        prefix = _prefix(table.starts[i], table.ends[i]) if table.whole[i] else None
        info = self._info
        return IpContextRow(ip=ip, source=info.source, data_date=info.data_date, asn=asn, as_name=name or None,
                            prefix=prefix)
