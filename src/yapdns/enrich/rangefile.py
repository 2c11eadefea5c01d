"""Inclusive address-range files (``start,end,value...``, numeric, gzip'd) flattened into a lookup table.

The ip-location-db packages (``asnumbers.py``, ``countries.py``) ship one
CSV per family, sorted by start, with some ranges inside others (a
provider's geofeed range inside its registry block; one overlap of two DoD
ranges in the AS data). ``load`` flattens them: where ranges overlap, the
one that starts later (the inner one) wins, and the outer one resumes after
it ends, so every address has one answer, as a sweep over the starts gives
it. A segment that is a whole range of the file (not a piece left around an
inner one) is marked ``whole``; only those can stand for an announced
prefix. ``scripts/build-as-data.sh`` installs the files, with
``source.json`` naming each package's version and integrity hash.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import gzip
import json
import socket
from array import array
from collections.abc import Callable, MutableSequence
from importlib import resources
from importlib.abc import Traversable
from typing import ClassVar

from yapdns.core.errors import ConfigurationError
from yapdns.enrich.dataset import DatasetInfo

_END = 2**128


def data_dir() -> Traversable:
    """Where ``scripts/build-as-data.sh`` put the data (inside the installed package)."""
    return resources.files("yapdns.enrich") / "data"


def has_files(folder: Traversable, names: tuple[str, ...]) -> bool:
    return all(folder.joinpath(name).is_file() for name in (*names, "source.json"))


class RangeTable:
    """Disjoint sorted segments, each with a value id and whether it is a whole range of the file."""

    def __init__(self, starts: MutableSequence[int], ends: MutableSequence[int]) -> None:
        self.starts, self.ends = starts, ends
        self.values = array("I")
        self.whole = bytearray()
        self.nested = 0  # ranges that started inside another one

    def find(self, n: int) -> int:
        """The index of the segment holding ``n``, or -1."""
        i = bisect.bisect_right(self.starts, n) - 1
        return i if i >= 0 and n <= self.ends[i] else -1

    def _emit(self, start: int, end: int, value: int, whole: bool) -> None:
        self.starts.append(start)
        self.ends.append(end)
        self.values.append(value)
        self.whole.append(whole)


def load(path: Traversable, table: RangeTable, value_of: Callable[[list[str]], int | None]) -> RangeTable:
    """Read ``path`` into ``table``; ``value_of`` maps a row's value fields to an id (None: skip the row)."""
    stack: list[tuple[int, int, int]] = []  # open ranges, innermost last
    pos = last_start = 0

    def drain(limit: int) -> None:
        nonlocal pos
        while stack and pos <= limit:
            start, end, value = stack[-1]
            if end >= pos:
                stop = min(end, limit)
                table._emit(pos, stop, value, pos == start and stop == end)
                pos = stop + 1
            if end < pos:
                stack.pop()

    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            start, end = int(row[0]), int(row[1])
            if end < start or start < last_start:
                raise ConfigurationError(f"{path.name}: ranges out of order at {row[0]}")
            last_start = start
            value = value_of(row[2:])
            if value is None:
                continue
            drain(start - 1)
            while stack and stack[-1][1] < start:
                stack.pop()
            table.nested += bool(stack)
            pos = start
            stack.append((start, end, value))
    drain(_END)
    return table


def address(ip: str) -> tuple[bool, int] | None:
    """``(is IPv6, the address as an integer)``, or None for text that is no address."""
    try:
        if ":" in ip:
            return True, int.from_bytes(socket.inet_pton(socket.AF_INET6, ip), "big")
        return False, int.from_bytes(socket.inet_aton(ip), "big")
    except OSError:
        return None


def built(folder: Traversable, package: str) -> tuple[str, str, int]:
    """``(version, integrity, build time)`` of ``package`` from ``source.json``; its version ends with the build
    time (``2.3.2026061719``: 2026-06-17 19:00 UTC)."""
    source = json.loads(folder.joinpath("source.json").read_text()).get(package)
    version = str(source.get("version", "")) if isinstance(source, dict) else ""
    try:
        when = dt.datetime.strptime(version.rsplit(".", 1)[-1], "%Y%m%d%H").replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise ConfigurationError(f"{package} version {version!r} carries no build time") from exc
    assert isinstance(source, dict)
    return version, str(source.get("integrity", "")), int(when.timestamp())


class RangeDataset:
    """One ip-location-db package read into an IPv4 and an IPv6 ``RangeTable``.

    A subclass names the package (``PACKAGE``, ``FILES``, ``SOURCE``, ``LICENCE``, ``FIELDS``, ``WHAT``), turns
    a row's fields into a value id (``value_of``) and builds the lookup's answer from ``segment``.
    """

    PACKAGE: ClassVar[str]
    FILES: ClassVar[tuple[str, str]]
    SOURCE: ClassVar[str]
    LICENCE: ClassVar[str]
    FIELDS: ClassVar[tuple[str, ...]]
    WHAT: ClassVar[str]  # "AS data", "country data": for the error that says what to install

    def __init__(self, folder: Traversable | None = None) -> None:
        folder = folder or data_dir()
        if not has_files(folder, self.FILES):
            raise ConfigurationError(f"no {self.WHAT} in {folder}: run scripts/build-as-data.sh")
        self._v4 = load(folder / self.FILES[0], RangeTable(array("I"), array("I")), self.value_of)
        self._v6 = load(folder / self.FILES[1], RangeTable([], []), self.value_of)
        self.nested = self._v4.nested + self._v6.nested
        version, integrity, when = built(folder, self.PACKAGE)
        self._info = DatasetInfo(source=self.SOURCE, data_date=when, fields=self.FIELDS,
                                 origin=f"npm {self.PACKAGE} {version} ({integrity[:20]}…)", licence=self.LICENCE)

    @classmethod
    def available(cls) -> bool:
        """Whether the data was installed (``scripts/build-as-data.sh``, run by ``scripts/install``)."""
        return has_files(data_dir(), cls.FILES)

    def value_of(self, fields: list[str]) -> int | None:
        """The value id of a row's fields after ``start,end`` (None: the row carries no value)."""
        raise NotImplementedError

    def info(self) -> DatasetInfo:
        return self._info

    def segment(self, ip: str) -> tuple[RangeTable, int] | None:
        """The table and index of the segment holding ``ip``, or None."""
        found = address(ip)
        if found is None:
            return None
        table = self._v6 if found[0] else self._v4
        i = table.find(found[1])
        return (table, i) if i >= 0 else None

    def __len__(self) -> int:
        return len(self._v4.starts) + len(self._v6.starts)
