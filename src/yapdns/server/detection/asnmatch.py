"""``asn`` watchlist entries at ingest: each A/AAAA address's AS number, where context knows it.

An address's AS comes from the enrichment's context kept in the store
(``Store.ip_context``, the latest value: ``enrichment.services.as_of``), else
from the datasets the enricher would use, looked up directly (an address seen
for the first time has no kept context yet, because the enricher runs after
ingest): the MMDB files of ``YAPDNS_GEOIP_MMDB``, then the built-in AS
numbers (``enrich/asnumbers.py``, when installed and ``YAPDNS_GEOIP_BUILTIN``
is on; loaded once per process, about a second and 18 MB, only once an
``asn`` entry exists). An address none knows is not matched at ingest; the
retro-hunt of an ``asn`` entry (``services.hunt_query``) finds it in history
if the enricher kept its context by then, and ``match_context`` when the
enricher keeps it later (the enrichment job calls it after each step). Nothing
of this runs while the watchlist has no ``asn`` entry.

Answers are remembered per address (``CACHE_MAX``) for ``CACHE_SECONDS``,
so a batch costs one bulk context read for the addresses not seen lately.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from yapdns import config
from yapdns.core.model import Observation
from yapdns.enrich.dataset import IpDataset
from yapdns.enrich.mmdb import MmdbDataset
from yapdns.server.detection import services
from yapdns.server.detection.matching import ADDRESS_TYPES, Hit, WatchlistMatcher
from yapdns.server.enrichment.services import as_of
from yapdns.storage.base import Store
from yapdns.storage.context import IpContextRow
from yapdns.storage.query import IpRange, RecordQuery

log = logging.getLogger(__name__)
CACHE_MAX = 200_000
CACHE_SECONDS = 300.0


class AsnResolver:
    """Address → AS number (or None), from kept context, else the given datasets in order; cached."""

    def __init__(self, store: Callable[[], Store], datasets: Sequence[IpDataset] = ()) -> None:
        self._store = store
        self._datasets = list(datasets)
        self._known: dict[str, int | None] = {}
        self._started = time.monotonic()
        self._lock = threading.Lock()

    def resolve(self, ips: Sequence[str]) -> dict[str, int | None]:
        """The AS number of each address (None: no context knows it)."""
        known = self.known(ips)
        return {ip: known.get(ip) for ip in ips}

    def known(self, ips: Sequence[str]) -> dict[str, int | None]:
        """The cache, holding every address of ``ips`` (the misses read in one bulk context read)."""
        with self._lock:
            if len(self._known) > CACHE_MAX or time.monotonic() - self._started > CACHE_SECONDS:
                self._known, self._started = {}, time.monotonic()
            known = self._known
        wanted = list({ip for ip in ips if ip not in known})
        if wanted:
            kept = self._store().ip_context(wanted)
            for ip in wanted:
                row = as_of(kept[ip]) if kept.get(ip) else None
                known[ip] = row.asn if row is not None and row.asn is not None else self._looked_up(ip)
        return known

    def _looked_up(self, ip: str) -> int | None:
        for dataset in self._datasets:
            row = dataset.lookup(ip)
            if row is not None and row.asn is not None:
                return row.asn
        return None


def asn_hits(matcher: WatchlistMatcher, observations: Sequence[Observation], resolver: AsnResolver) -> list[Hit]:
    """The (``asn`` entry, record) matches of the observations' addresses."""
    if not matcher.asns:
        return []
    addresses = [r for o in observations if o.rrtype in ADDRESS_TYPES for r in o.rdata]
    known, watched = resolver.known(addresses), matcher.asns
    hits: list[Hit] = []
    for obs in observations:
        if obs.rrtype not in ADDRESS_TYPES:
            continue
        for rdata in obs.rdata:
            asn = known.get(rdata)
            if asn is not None and asn in watched:
                hits.extend(Hit(e, obs.rrname, obs.rrtype, rdata, obs.sensor_id or "", obs.time_first,
                                obs.time_last, obs.count) for e in watched[asn])
    return hits


def match_context(store: Store, rows: Sequence[IpContextRow]) -> int:
    """Alerts (origin ``retro-hunt``) for the records of addresses whose context, just looked up by the enricher,
    puts them in a watched AS and that have no alert of that entry yet (an address stored before any source knew
    its AS: not matched at ingest, and missed by the entry's hunt); the alerts created. Each address's records
    are read as a hunt reads them (at most ``services.HUNT_MAX``), with their whole stored counts."""
    watched = services.live_matcher().asns
    if not watched:
        return 0
    addresses = {row.ip: watched[row.asn] for row in rows if row.asn is not None and row.asn in watched}
    hits: list[Hit] = []
    for ip, entries in addresses.items():
        for r in store.iter_records(RecordQuery(rdata_ip=IpRange.parse(ip), limit=services.HUNT_MAX)):
            hits.extend(Hit(e, r.rrname, r.rrtype, r.rdata, "", r.time_first, r.time_last, r.count) for e in entries)
    fresh = services.without_alerts(hits)
    return len(services.record_hits(fresh, origin="retro-hunt", totals=True, store=store)) if fresh else 0


_resolver: AsnResolver | None = None
_resolver_lock = threading.Lock()


def live_resolver() -> AsnResolver:
    """The process's resolver over its store, the configured MMDB files and the built-in AS numbers (opened on
    first use)."""
    global _resolver  # noqa: PLW0603  (one per process, like the store)
    with _resolver_lock:
        if _resolver is None:
            from yapdns.server.store import get_store

            paths = [p.strip() for p in config.get("YAPDNS_GEOIP_MMDB").split(",") if p.strip()]
            datasets: list[IpDataset] = [d for p in paths if (d := _opened(Path(p).expanduser()))]
            _resolver = AsnResolver(get_store, datasets + _builtin_numbers())
        return _resolver


def _builtin_numbers() -> list[IpDataset]:
    """The built-in AS numbers, when installed and ``YAPDNS_GEOIP_BUILTIN`` is on (geoip2fast's data has none)."""
    from yapdns.enrich import asnumbers

    if not config.get_bool("YAPDNS_GEOIP_BUILTIN") or not asnumbers.available():
        return []
    from yapdns.enrich.enricher import as_numbers

    return [as_numbers()]


def _opened(path: Path) -> MmdbDataset | None:
    try:
        return MmdbDataset(path)
    except (OSError, ValueError) as exc:  # maxminddb's InvalidDatabaseError is a ValueError
        log.warning("ASN matching at ingest cannot read %s (kept context only): %s", path, exc)
        return None


def use_resolver(resolver: AsnResolver) -> None:
    """Make ``resolver`` the process's (a benchmark's own store and data)."""
    global _resolver  # noqa: PLW0603
    with _resolver_lock:
        _resolver = resolver


def forget_resolver() -> None:
    """Drop the resolver (tests; settings changes)."""
    global _resolver  # noqa: PLW0603
    with _resolver_lock:
        _resolver = None
