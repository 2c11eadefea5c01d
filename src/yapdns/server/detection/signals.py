"""A name's detection signals from stored data only (no network): fast-flux, domain age, DGA, re-pointing.

* ``flux``: Holz et al.'s score (``flux.py``).
* ``domain_age``: the age of the name's registered domain (eTLD+1,
  ``nod.registered_domain``) when the name was first seen: the name's
  earliest ``time_first`` minus the earliest ``time_first`` of any record of
  the registered domain or below it. 0 means the name came with the domain:
  the domain was new to this store then (``young``: under ``YOUNG_SECONDS``,
  for a name first seen in the past ``RECENT`` seconds: news, not history).
  Ages count from this store's first sight, not from registration (no WHOIS:
  nothing is fetched), so they are at most the store's history. Each first
  sighting reads at most ``AGE_SCAN`` records (in the index's order); past
  that the age is approximate (``limited``) and never called young.
* ``lexical``: entropy and bigram score of the registered label (``lexical.py``).
* ``repointing``: a long-lived name (first seen at least ``LONG_LIVED``
  before now) whose addresses first seen in the past ``RECENT`` seconds lie
  in an AS (by ``flux.as_key``: AS number, else AS name, else /16 or /32)
  none of its older addresses was in, each address judged by its context
  as of its first sighting. A name with no address record of its own but
  CNAME records is judged by the addresses its chains ended in
  (``alias_addresses``): a hijacked alias pointed at a new target is
  re-pointed as much as a name given a new address.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import msgspec

from yapdns.core.model import Record
from yapdns.server.detection import flux
from yapdns.server.detection.lexical import Lexical, lexical
from yapdns.server.detection.nod import registered_domain
from yapdns.storage.base import Store
from yapdns.storage.query import NameMatch, RecordQuery, TypeFilter

YOUNG_SECONDS = 86400
LONG_LIVED = 30 * 86400
RECENT = 7 * 86400
AGE_SCAN = 10_000  # records of a registered domain read at most to find its first sighting
ADDRESS_TYPES = TypeFilter.parse("A,AAAA")
CNAME = TypeFilter.parse("CNAME")


@dataclass(frozen=True)
class DomainAge:
    """The registered domain and its age (seconds) when the name was first seen."""

    domain: str | None
    name_first_seen: int | None
    domain_first_seen: int | None
    limited: bool  # more records than were read: a first sighting may be earlier, the age is approximate
    now: int = 0  # when it was computed (young is news only for a name first seen in the past RECENT seconds)

    @property
    def age(self) -> int | None:
        if self.name_first_seen is None or self.domain_first_seen is None:
            return None
        return max(0, self.name_first_seen - self.domain_first_seen)

    @property
    def age_text(self) -> str:
        """The age in the largest whole unit (``3 days``, ``5 hours``, ``40 s``)."""
        age = self.age or 0
        for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if age >= seconds:
                n = age // seconds
                return f"{n} {unit}{'s' if n != 1 else ''}"
        return f"{age} s"

    @property
    def young(self) -> bool:
        recent = self.name_first_seen is not None and self.name_first_seen >= self.now - RECENT
        return self.age is not None and self.age < YOUNG_SECONDS and recent and not self.limited

    def as_json(self) -> dict[str, object]:
        return {"registered_domain": self.domain, "name_first_seen": self.name_first_seen,
                "domain_first_seen": self.domain_first_seen, "age_at_first_sight": self.age,
                "young": self.young, "young_below": YOUNG_SECONDS, "limited": self.limited}


def _earliest(store: Store, match: NameMatch) -> tuple[int | None, bool]:
    query = RecordQuery(rrname=match, limit=1)
    page = store.ranked_records(query, "time_first", descending=False, scan_max=AGE_SCAN)
    first = page.rows[0].time_first if page.rows else None
    limited = store.count_records(query, AGE_SCAN + 1) > AGE_SCAN if page.rows else False
    return first, limited


def domain_age(store: Store, name: str, now: int | None = None) -> DomainAge:
    """How old the name's registered domain was (to this store) when the name was first seen."""
    now = now or int(time.time())
    own, own_limited = _earliest(store, NameMatch("exact", name))
    domain = registered_domain(name)
    if domain is None:
        return DomainAge(None, own, None, own_limited, now)
    firsts = [_earliest(store, NameMatch("exact", domain)), _earliest(store, NameMatch("suffix", domain))]
    known = [t for t, _ in firsts if t is not None]
    limited = own_limited or any(lim for _, lim in firsts)
    return DomainAge(domain, own, min(known) if known else None, limited, now)


@dataclass(frozen=True)
class Repointing:
    """Whether a long-lived name's recent addresses moved to ASes it never used before."""

    first_seen: int | None
    old_as: list[str]
    new_as: list[str]  # ASes of recent addresses that no older address was in
    still_old: bool  # some address of an old AS was also seen in the recent window
    basis: str
    long_lived: bool = False  # first seen at least LONG_LIVED before now (else never re-pointed)
    via: tuple[str, ...] = ()  # CNAME targets whose addresses were judged (the name has none of its own)

    @property
    def repointed(self) -> bool:
        return bool(self.old_as and self.new_as)

    @property
    def new_labels(self) -> list[str]:
        """``new_as`` as shown: AS13335, an AS name, or a network."""
        return [key.split(":", 1)[1] if key.startswith(("net:", "name:")) else key for key in self.new_as]

    def as_json(self) -> dict[str, object]:
        return {"repointed": self.repointed, "first_seen": self.first_seen, "old_as": self.old_as,
                "new_as": self.new_as, "old_still_used": self.still_old, "asn_basis": self.basis,
                "long_lived": self.long_lived, "via_cname": list(self.via),
                "long_lived_after": LONG_LIVED, "recent_window": RECENT}


def repointing(store: Store, name: str, now: int | None = None) -> Repointing:
    """Compare the ASes of the addresses first seen in the past ``RECENT`` seconds with the older ones'."""
    now = now or int(time.time())
    records = _own_records(store, name, ADDRESS_TYPES)
    via: tuple[str, ...] = ()
    first = min((r.time_first for r in records), default=None)
    if not records:
        aliases = _own_records(store, name, CNAME)
        records, via = alias_addresses(store, aliases)
        first = min((r.time_first for r in aliases), default=None)
    if not records or first is None:
        return Repointing(None, [], [], False, "none", via=via)
    known = store.ip_context(list({r.rdata for r in records}))
    keyed = [(r, flux.as_key(r.rdata, known.get(r.rdata), r.time_first)) for r in records]
    pairs = [(r, key) for r, key in keyed if key is not None]
    bases = {kind for _, (_, kind) in pairs}
    basis = bases.pop() if len(bases) == 1 else ("mixed" if bases else "none")
    if first > now - LONG_LIVED:
        return Repointing(first, [], [], False, basis, long_lived=False, via=via)
    old = {key for r, (key, _) in pairs if r.time_first < now - RECENT}
    recent = {key for r, (key, _) in pairs if r.time_first >= now - RECENT}
    still = any(key in old for r, (key, _) in pairs if _seen_recently(r, now))
    return Repointing(first, sorted(old), sorted(recent - old), still, basis, long_lived=True, via=via)


def _own_records(store: Store, name: str, types: TypeFilter) -> list[Record]:
    query = RecordQuery(rrname=NameMatch("exact", name), types=types, limit=flux.RECORDS_MAX)
    return list(store.iter_records(query))


def alias_addresses(store: Store, cnames: list[Record]) -> tuple[list[Record], tuple[str, ...]]:
    """The address records the alias's CNAME chains ended in (up to ``flux.CHAIN_MAX`` hops, at most
    ``flux.TARGETS_MAX`` targets a hop), each dated by its whole chain: first seen when every link had been
    seen (the latest first sighting), last seen at the earliest last sighting; a chain whose links were never
    seen at one time is dropped. Also the targets that held addresses."""
    chains = [(r.rdata, r.time_first, r.time_last) for r in cnames]
    found: list[Record] = []
    via: list[str] = []
    seen = {r.rrname for r in cnames}
    for _ in range(flux.CHAIN_MAX):
        following: list[tuple[str, int, int]] = []
        for target, first, last in chains[: flux.TARGETS_MAX]:
            addresses = _own_records(store, target, ADDRESS_TYPES)
            dated = [msgspec.structs.replace(a, time_first=max(first, a.time_first), time_last=min(last, a.time_last))
                     for a in addresses]
            kept = [a for a in dated if a.time_first <= a.time_last]
            if kept and target not in via:
                via.append(target)
            found += kept
            if not addresses and target not in seen:
                following += [(c.rdata, max(first, c.time_first), min(last, c.time_last))
                              for c in _own_records(store, target, CNAME)
                              if max(first, c.time_first) <= min(last, c.time_last)]
            seen.add(target)
        chains = following
        if not chains or len(found) >= flux.RECORDS_MAX:
            break
    return found[: flux.RECORDS_MAX], tuple(via)


def _seen_recently(record: Record, now: int) -> bool:
    return record.time_last >= now - RECENT


@dataclass(frozen=True)
class Signals:
    """Every signal of one name."""

    name: str
    flux: flux.FluxScore
    age: DomainAge
    lexical: Lexical
    repointing: Repointing

    @property
    def suspicious(self) -> bool:
        return self.flux.flux or self.lexical.dga or self.repointing.repointed

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "suspicious": self.suspicious, "flux": self.flux.as_json(),
                "domain_age": self.age.as_json(), "lexical": self.lexical.as_json(),
                "repointing": self.repointing.as_json()}


def name_signals(store: Store, name: str, now: int | None = None) -> Signals:
    """All signals of ``name`` now."""
    return Signals(name, flux.flux_score(store, name, now=now), domain_age(store, name, now), lexical(name),
                   repointing(store, name, now))

