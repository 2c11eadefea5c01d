"""``GeoIpEnricher``: what the configured datasets say about the store's addresses, kept as history.

``enrich_step`` walks the store's address feed from a dataset's cursor, looks
every address up and hands the answers to ``Store.add_ip_context`` (which
keeps only changes, never overwrites). The caller keeps the cursor per
dataset identity (``DatasetInfo.identity``): new addresses are enriched once,
and when a dataset's data changes its new identity walks every address again,
adding a row only where the new data disagrees. Steps are idempotent: a step
replayed after a crash adds nothing twice.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path

import msgspec

from yapdns import config
from yapdns.enrich.dataset import IpDataset
from yapdns.storage.base import Store
from yapdns.storage.context import IpContextRow

PAGE = 5000
log = logging.getLogger(__name__)


class StepResult(msgspec.Struct, frozen=True):
    """One step over one dataset: addresses looked up, rows kept, where to continue, and the rows looked up."""

    addresses: int
    kept: int
    next_cursor: str | None
    rows: tuple[IpContextRow, ...] = ()


class GeoIpEnricher:
    """The configured datasets, in order of preference (an MMDB before the built-in data)."""

    def __init__(self, datasets: Sequence[IpDataset]) -> None:
        self.datasets = list(datasets)

    def lookup(self, ip: str) -> list[IpContextRow]:
        """Every dataset's answer for ``ip`` (those that know something)."""
        return [row for ds in self.datasets if (row := ds.lookup(ip)) is not None]

    def enrich_step(self, store: Store, dataset: IpDataset, cursor: str | None, limit: int = PAGE) -> StepResult:
        """Enrich the next page of addresses after ``cursor`` with ``dataset``."""
        page = store.address_feed(cursor, limit)
        if page.next_cursor is None:
            return StepResult(0, 0, cursor)
        rows = [row for ip in page.addresses if (row := dataset.lookup(ip)) is not None]
        kept = store.add_ip_context(rows)
        return StepResult(len(page.addresses), kept, page.next_cursor, tuple(rows))


def configured_datasets() -> list[IpDataset]:
    """The MMDB files of ``YAPDNS_GEOIP_MMDB``, then the built-in data unless ``YAPDNS_GEOIP_BUILTIN`` is off."""
    datasets: list[IpDataset] = []
    from yapdns.enrich.mmdb import MmdbDataset

    for path in config.get("YAPDNS_GEOIP_MMDB").split(","):
        if path.strip():
            datasets.append(MmdbDataset(Path(path.strip()).expanduser()))
    if config.get_bool("YAPDNS_GEOIP_BUILTIN"):
        datasets.extend(builtin_datasets(geolite2=config.get_bool("YAPDNS_GEOIP_GEOIP2FAST")))
    return datasets


def builtin_datasets(*, geolite2: bool = False) -> tuple[IpDataset, ...]:
    """The AS numbers and the countries of the ip-location-db packages (when installed: an install without npm has
    none, and logs it), and with ``geolite2`` geoip2fast's GeoLite2 data of 2024."""
    return _ip_location_db() + ((_geoip2fast(),) if geolite2 else ())


@functools.cache
def _ip_location_db() -> tuple[IpDataset, ...]:
    """Loaded once per process: installed package data never changes under a running process."""
    from yapdns.enrich import asnumbers, countries, rangefile

    if asnumbers.available() and countries.available():
        return as_numbers(), countries.CountryDataset()
    log.warning("no built-in AS and country data: %s is incomplete (scripts/build-as-data.sh)", rangefile.data_dir())
    return ()


@functools.cache
def as_numbers() -> IpDataset:
    """The built-in AS numbers, loaded once per process for enrichment and ASN matching alike (~37 MB)."""
    from yapdns.enrich.asnumbers import AsNumberDataset

    return AsNumberDataset()


@functools.cache
def _geoip2fast() -> IpDataset:
    from yapdns.enrich.builtin import BuiltinDataset

    return BuiltinDataset()
