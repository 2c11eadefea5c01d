"""The offline AS numbers: RouteViews, NRO and DB-IP data from the npm package ``@ip-location-db/asn``.

geoip2fast's data (``builtin.py``) names the AS but drops its number. This
dataset fills the number: ``scripts/build-as-data.sh`` installs the pinned
package (``asdata/package-lock.json``) and copies its numeric CSV files
(``start,end,asn,organisation``, inclusive ranges, one file per family) gzip'd
into ``yapdns/enrich/data``, with the licence files and ``source.json`` (the
package version and its integrity hash). The wheel ships that folder, so an
install enriches without any download. The package's version ends with its
build time (``2.3.2026061719``: 2026-06-17 19:00 UTC), which is the data date.

What it gives: AS number, AS name, and the range as a prefix when the range
is exactly one CIDR block (about four in five are; merged neighbouring
announcements of one AS are not, and then ``prefix`` stays None). Licence:
CC BY 4.0 (RouteViews, NRO, DB-IP: attribution required, shown wherever the
dataset is listed).

The files are sorted by start; where a range starts inside the one before
(one case in 2.3.2026061719, both DoD networks), the later range wins the
overlap: the earlier one's end is cut back, and it gives no prefix
(``overlaps`` counts them).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import gzip
import json
import socket
from array import array
from collections.abc import MutableSequence
from importlib import resources
from importlib.abc import Traversable

from yapdns.core.errors import ConfigurationError
from yapdns.enrich.dataset import DatasetInfo
from yapdns.storage.context import IpContextRow

PACKAGE = "@ip-location-db/asn"
FILES = ("asn-ipv4-num.csv.gz", "asn-ipv6-num.csv.gz")
SOURCE = "ip-location-db AS"  # RouteViews, NRO and DB-IP data: credited in the licence and on the IP page
LICENCE = ("CC BY 4.0: IP to AS data by RouteViews (routeviews.org), the NRO (nro.net) and DB-IP "
           "(IP Geolocation by DB-IP, https://db-ip.com), merged by ip-location-db (sapics)")
_V4_TOP = 2**32


def data_dir() -> Traversable:
    """Where ``scripts/build-as-data.sh`` put the data (inside the installed package)."""
    return resources.files("yapdns.enrich") / "data"


def available() -> bool:
    """Whether the data was installed (``scripts/build-as-data.sh``, run by ``scripts/install``)."""
    folder = data_dir()
    return all(folder.joinpath(name).is_file() for name in (*FILES, "source.json"))


class _Ranges:
    """Sorted, disjoint inclusive ranges with their AS number and name id."""

    def __init__(self, starts: MutableSequence[int], ends: MutableSequence[int]) -> None:
        self.starts, self.ends = starts, ends
        self.asns = array("I")
        self.name_ids = array("I")
        self.cut: set[int] = set()  # ranges whose end was cut back: their span is no announced prefix

    def find(self, n: int) -> int:
        """The index of the range holding ``n``, or -1."""
        i = bisect.bisect_right(self.starts, n) - 1
        return i if i >= 0 and n <= self.ends[i] else -1


def _read(path: Traversable, ranges: _Ranges, names: dict[str, int]) -> int:
    """Append the file's ranges; return how many overlapped the one before (its end is cut back)."""
    overlaps = 0
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8", newline="") as fh:
        for start_text, end_text, asn_text, name in csv.reader(fh):
            start, end, asn = int(start_text), int(end_text), int(asn_text)
            if end < start or (ranges.starts and start <= ranges.starts[-1]):
                raise ConfigurationError(f"{path.name}: ranges out of order at {start_text}")
            if asn == 0:
                continue  # AS0: not announced
            if ranges.ends and start <= ranges.ends[-1]:
                ranges.ends[-1] = start - 1
                ranges.cut.add(len(ranges.ends) - 1)
                overlaps += 1
            ranges.starts.append(start)
            ranges.ends.append(end)
            ranges.asns.append(asn)
            ranges.name_ids.append(names.setdefault(name, len(names)))
    return overlaps


def _prefix(start: int, end: int) -> str | None:
    """``start`` to ``end`` as CIDR text when it is exactly one block, else None."""
    size = end - start + 1
    if size & (size - 1) or start % size:
        return None
    if end < _V4_TOP:
        return f"{socket.inet_ntoa(start.to_bytes(4, 'big'))}/{32 - size.bit_length() + 1}"
    return f"{socket.inet_ntop(socket.AF_INET6, start.to_bytes(16, 'big'))}/{128 - size.bit_length() + 1}"


class AsNumberDataset:
    """AS number and name per address range, from the ``@ip-location-db/asn`` data shipped in the wheel."""

    def __init__(self, folder: Traversable | None = None) -> None:
        folder = folder or data_dir()
        if not all(folder.joinpath(name).is_file() for name in (*FILES, "source.json")):
            raise ConfigurationError(f"no AS data in {folder}: run scripts/build-as-data.sh")
        names: dict[str, int] = {}
        self._v4 = _Ranges(array("I"), array("I"))
        self._v6 = _Ranges([], [])
        self.overlaps = _read(folder / FILES[0], self._v4, names) + _read(folder / FILES[1], self._v6, names)
        self._names = list(names)
        self._info = _info(json.loads(folder.joinpath("source.json").read_text()))

    def info(self) -> DatasetInfo:
        return self._info

    def lookup(self, ip: str) -> IpContextRow | None:
        try:
            if ":" in ip:
                table, n = self._v6, int.from_bytes(socket.inet_pton(socket.AF_INET6, ip), "big")
            else:
                table, n = self._v4, int.from_bytes(socket.inet_aton(ip), "big")
        except OSError:
            return None
        i = table.find(n)
        if i < 0:
            return None
        info = self._info
        return IpContextRow(ip=ip, source=info.source, data_date=info.data_date, asn=table.asns[i],
                            as_name=self._names[table.name_ids[i]] or None,
                            prefix=None if i in table.cut else _prefix(table.starts[i], table.ends[i]))

    def __len__(self) -> int:
        return len(self._v4.starts) + len(self._v6.starts)


def _info(source: dict[str, str]) -> DatasetInfo:
    """``source.json`` → the dataset's name and date (the version's last ten digits: ``YYYYMMDDHH``)."""
    version = str(source.get("version", ""))
    try:
        built = dt.datetime.strptime(version.rsplit(".", 1)[-1], "%Y%m%d%H").replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise ConfigurationError(f"{PACKAGE} version {version!r} carries no build time") from exc
    return DatasetInfo(
        source=SOURCE,
        data_date=int(built.timestamp()),
        fields=("asn", "as_name", "prefix"),
        origin=f"npm {PACKAGE} {version} ({source.get('integrity', '')[:20]}…)",
        licence=LICENCE,
    )
