"""The offline default: the country and AS data shipped inside the geoip2fast package.

geoip2fast (MIT) ships MaxMind GeoLite2 country and ASN networks in its own
format, a gzip'd pickle of sorted network lists (format version 120; see
``geoip2fast.GeoIP2Fast._GeoIP2Fast__load_data``). Its own ``lookup`` runs
at ~20k addresses per second and keeps the data in module globals, so this
module reads the same file once into flat sorted tables and answers with one
``bisect`` per table (several hundred thousand lookups per second). The file
is the package's own, installed from PyPI with it; unpickling it trusts that
package as much as importing it does. ``tests/enrich/test_builtin.py`` checks
the answers against geoip2fast's own ``lookup``.

What it gives: country (ISO code), AS name and AS-announced prefix. It has no
AS numbers (geoip2fast keeps only the organisation name), so ``asn`` stays
None: configure an MMDB (``mmdb.py``) for numbers.
"""

from __future__ import annotations

import bisect
import datetime as dt
import gzip
import pickle
import re
import socket
from array import array
from importlib import resources
from itertools import chain

from yapdns.core.errors import ConfigurationError
from yapdns.enrich.dataset import DatasetInfo
from yapdns.storage.context import IpContextRow

DATA_FILE = "geoip2fast-asn-ipv6.dat.gz"
FORMAT_VERSION = 120
RESERVED_COUNTRY_IDS = 16  # geoip2fast's first 16 "countries" are reserved and private ranges
SOURCE = "geoip2fast GeoLite2 country+AS"
UNKNOWN_AS = 0  # mainListNamesASN[0] is "<unknown>"
_V4_TOP = 2**32
_DATE = re.compile(r"(\d{8})$")


def _to_int(ip: str) -> int:
    if ":" in ip:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, ip), "big")
    return int.from_bytes(socket.inet_aton(ip), "big")


def _size(start: int, netlen: int) -> int:
    return 1 << ((32 if start < _V4_TOP else 128) - netlen)


def _to_text(start: int, netlen: int) -> str:
    if start < _V4_TOP:
        return f"{socket.inet_ntoa(start.to_bytes(4, 'big'))}/{netlen}"
    return f"{socket.inet_ntop(socket.AF_INET6, start.to_bytes(16, 'big'))}/{netlen}"


class _Table:
    """Sorted network starts with their prefix lengths and value ids (geoip2fast's chunks, flattened)."""

    def __init__(self, starts: list[list[int]], netlens: list[list[int]], ids: list[list[int]]) -> None:
        self.starts = list(chain.from_iterable(starts))
        self.netlens = bytes(chain.from_iterable(netlens))
        self.ids = array("I", chain.from_iterable(ids))

    def find(self, n: int) -> int:
        """The index of the network holding ``n``, or -1."""
        i = bisect.bisect_right(self.starts, n) - 1
        if i < 0 or n >= self.starts[i] + _size(self.starts[i], self.netlens[i]):
            return -1
        return i


class BuiltinDataset:
    """geoip2fast's bundled GeoLite2 country and AS data, as flat lookup tables."""

    def __init__(self) -> None:
        import geoip2fast

        path = resources.files(geoip2fast.__name__) / DATA_FILE
        with path.open("rb") as raw, gzip.open(raw) as fh:
            version, source_info, _total, database = pickle.load(fh)  # noqa: S301  (the package's own data file)
        if version != FORMAT_VERSION or not (source_info.get("country") and source_info.get("asn")):
            raise ConfigurationError(f"geoip2fast's {DATA_FILE} has format {version}, not {FORMAT_VERSION}")
        (_idx, _idx_asn, country_names, as_names, first, first_asn, country_ids, as_ids, netlen, netlen_asn) = database
        self._countries = [name.split(":", 1)[0] for name in country_names]
        self._as_names: list[str] = as_names
        self._country = _Table(first, netlen, country_ids)
        self._as = _Table(first_asn, netlen_asn, as_ids)
        self._info = _info(source_info["info"], geoip2fast.__version__)

    def info(self) -> DatasetInfo:
        return self._info

    def lookup(self, ip: str) -> IpContextRow | None:
        try:
            n = _to_int(ip)
        except OSError:
            return None
        if n < _V4_TOP and ":" in ip:
            return None  # ::/96 would read as IPv4 in geoip2fast's one integer space; it is reserved anyway
        country = as_name = prefix = None
        table = self._country
        i = table.find(n)
        if i >= 0:
            code = table.ids[i]
            if code < RESERVED_COUNTRY_IDS:
                return None  # private and reserved ranges (which geoip2fast files under "IANA.ORG")
            country = self._countries[code]
        table = self._as
        j = table.find(n)
        if j >= 0 and table.ids[j] != UNKNOWN_AS:
            as_name = self._as_names[table.ids[j]]
            prefix = _to_text(table.starts[j], table.netlens[j])
        if country is None and as_name is None:
            return None
        info = self._info
        return IpContextRow(ip=ip, source=info.source, data_date=info.data_date, as_name=as_name, prefix=prefix,
                            country=country)


def _info(label: str, version: str) -> DatasetInfo:
    """``MAXMIND:GeoLite2-CountryASN-IPv4IPv6-en-20240618`` → its source name and build date."""
    found = _DATE.search(label)
    day = dt.datetime.strptime(found.group(1) if found else "19700101", "%Y%m%d").replace(tzinfo=dt.UTC)
    return DatasetInfo(
        source=SOURCE,
        data_date=int(day.timestamp()),
        fields=("as_name", "prefix", "country"),
        origin=f"geoip2fast {version} ({DATA_FILE}: {label})",
        licence="geoip2fast: MIT; data: MaxMind GeoLite2 (MaxMind's GeoLite2 licence; attribution: "
        "'This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com')",
    )
