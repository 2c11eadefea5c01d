"""Which context to show for an address: the latest, or as of when a record was seen.

A store keeps every value each dataset gave an address, with the data's date
(``storage/context.py``). ``as_of(rows, when)`` picks, per source, the value of
the latest data built at or before ``when`` (else the oldest value known: the
data cannot say more about older times), prefers a source that knows the AS
number, then the data built nearest to ``when`` (the newest when ``when`` is
None), and fills the fields it lacks from the other sources (``source`` then
names them all, joined with " + "). The API, CSV, search results and the
dashboard all use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import msgspec

from yapdns.core.model import Record
from yapdns.server.enrichment.models import EnrichmentCursor
from yapdns.storage.base import Store
from yapdns.storage.context import IpContextRow


def _by_source(rows: Iterable[IpContextRow]) -> dict[str, list[IpContextRow]]:
    found: dict[str, list[IpContextRow]] = {}
    for row in rows:
        found.setdefault(row.source, []).append(row)
    return found


def as_of(rows: Sequence[IpContextRow], when: int | None = None) -> IpContextRow | None:
    """The value to show for a sighting at ``when`` (None: now), or None when nothing is known."""
    picks = []
    for history in _by_source(rows).values():
        ordered = sorted(history, key=lambda r: r.data_date)
        before = [r for r in ordered if when is None or r.data_date <= when]
        picks.append(before[-1] if before else ordered[0])
    if not picks:
        return None
    picks.sort(key=lambda r: (r.asn is not None, r.data_date if when is None else -abs(r.data_date - when)),
               reverse=True)
    return _merged(picks)


def _merged(picks: Sequence[IpContextRow]) -> IpContextRow:
    """The first pick, its empty fields filled from the next ones (an ASN file and a country file together)."""
    best, used = picks[0], [picks[0].source]
    for other in picks[1:]:
        filled = {f: getattr(other, f) for f in ("asn", "as_name", "prefix", "country")
                  if getattr(best, f) is None and getattr(other, f) is not None}
        if filled:
            best = msgspec.structs.replace(best, **filled)
            used.append(other.source)
    return msgspec.structs.replace(best, source=" + ".join(used))


def contexts(store: Store, ips: Iterable[str]) -> dict[str, list[IpContextRow]]:
    """Every kept row of these addresses (one bulk read)."""
    wanted = list(dict.fromkeys(ips))
    return store.ip_context(wanted) if wanted else {}


def context_json(row: IpContextRow | None) -> dict[str, object] | None:
    """The ``context`` object of the API: ``asn, as_name, prefix, country, source, data_date``."""
    if row is None:
        return None
    data = msgspec.to_builtins(row)
    return {k: data[k] for k in ("asn", "as_name", "prefix", "country", "source", "data_date")}


class DatasetStatus(msgspec.Struct, frozen=True):
    """A dataset as the docs, the API and the dashboard show it."""

    dataset: str
    source: str
    data_date: int
    origin: str
    licence: str
    addresses: int
    kept: int


def datasets() -> list[DatasetStatus]:
    """The datasets the worker has used, newest data first."""
    return [
        DatasetStatus(c.dataset, c.source, c.data_date, c.origin, c.licence, c.addresses, c.kept)
        for c in EnrichmentCursor.objects.order_by("-data_date", "dataset")
    ]


CSV_FIELDS = ("asn", "as_name", "prefix", "country")
ANNOTATE_CHUNK = 1000


class ContextAnnotator:
    """Reads the context of a stream of records in bulk, a chunk at a time, for per-record columns."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._known: dict[str, list[IpContextRow]] = {}

    def annotate(self, records: Iterable[Record]) -> Iterator[Record]:
        """``records`` unchanged; the context of each chunk's addresses is read before its records go out."""
        chunk: list[Record] = []
        for record in records:
            chunk.append(record)
            if len(chunk) >= ANNOTATE_CHUNK:
                yield from self._load(chunk)
                chunk = []
        yield from self._load(chunk)

    def _load(self, chunk: list[Record]) -> list[Record]:
        self._known = contexts(self.store, (r.rdata for r in chunk if r.rrtype in ("A", "AAAA")))
        return chunk

    def context(self, record: Record) -> IpContextRow | None:
        """The context of ``record``'s address as of its last sighting (None: not an address, or unknown)."""
        rows = self._known.get(record.rdata) if record.rrtype in ("A", "AAAA") else None
        return as_of(rows, record.time_last) if rows else None

    def csv_cells(self, record: Record) -> list[object]:
        row = self.context(record)
        return [row.asn, row.as_name, row.prefix, row.country] if row else [None] * len(CSV_FIELDS)


def record_contexts(store: Store, records: Sequence[Record]) -> dict[tuple[str, str, str], IpContextRow]:
    """The context of each A/AAAA record as of its last sighting, keyed by ``(rrname, rrtype, rdata)``."""
    annotator = ContextAnnotator(store)
    found = {}
    for record in annotator.annotate(records):
        row = annotator.context(record)
        if row is not None:
            found[(record.rrname, record.rrtype, record.rdata)] = row
    return found


def annotate_nodes(store: Store, nodes: Iterable[dict[str, object]]) -> None:
    """Add ``asn``, ``as_name`` and ``country`` (the latest known) to the address nodes of a pivot graph, so
    it can group or colour addresses by AS."""
    wanted = [n for n in nodes if n.get("kind") == "ip" and isinstance(n.get("value"), str)]
    known = contexts(store, (str(n["value"]) for n in wanted))
    for node in wanted:
        row = as_of(known.get(str(node["value"]), []))
        if row is not None:
            node.update(asn=row.asn, as_name=row.as_name, country=row.country)


class ContextGroup(msgspec.Struct):
    """The addresses of a name's records that share an AS (or a country)."""

    label: str
    asn: int | None
    addresses: int
    count: int
    time_first: int
    time_last: int


class Breakdown(msgspec.Struct, frozen=True):
    """A name's addresses per AS and per country (how many ASes a name used is a fast-flux signal)."""

    by_as: list[ContextGroup]
    by_country: list[ContextGroup]
    unknown: int  # addresses no dataset knows


def breakdown(store: Store, records: Sequence[Record]) -> Breakdown:
    """Group the A/AAAA records by their context as of each record's last sighting."""
    annotator = ContextAnnotator(store)
    by_as: dict[str, tuple[ContextGroup, set[str]]] = {}
    by_country: dict[str, tuple[ContextGroup, set[str]]] = {}
    unknown: set[str] = set()
    for record in annotator.annotate([r for r in records if r.rrtype in ("A", "AAAA")]):
        found = annotator.context(record)
        if found is None:
            unknown.add(record.rdata)
            continue
        as_label = (f"AS{found.asn} " if found.asn is not None else "") + (found.as_name or "")
        if as_label.strip():
            _add(by_as, as_label.strip(), found.asn, record)
        if found.country:
            _add(by_country, found.country, None, record)
    return Breakdown(_ranked(by_as), _ranked(by_country), len(unknown))


def _add(groups: dict[str, tuple[ContextGroup, set[str]]], label: str, asn: int | None, record: Record) -> None:
    if label not in groups:
        groups[label] = (ContextGroup(label, asn, 0, 0, record.time_first, record.time_last), set())
    group, seen = groups[label]
    seen.add(record.rdata)
    group.addresses = len(seen)
    group.count += record.count
    group.time_first = min(group.time_first, record.time_first)
    group.time_last = max(group.time_last, record.time_last)


def _ranked(groups: dict[str, tuple[ContextGroup, set[str]]]) -> list[ContextGroup]:
    return sorted((g for g, _ in groups.values()), key=lambda g: (-g.addresses, -g.count, g.label))
