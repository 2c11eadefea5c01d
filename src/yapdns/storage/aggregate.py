"""In-memory pre-aggregation of one write, shared by the SQL backends.

Folding a batch before it reaches the engine turns N observations of a key
into one upsert. It runs in two passes:

1. ``BatchAggregate.add_all`` folds observations by their whole identity
   (RRset, rcode, bailiwick, provenance, sample): one small tuple and one
   dict probe per observation, nothing else on the per-observation path.
2. ``BatchAggregate.fold`` expands the (far fewer) folded sightings into the
   row kinds the store keeps, in a ``FoldedBatch``:

   * ``rr``: ``(rrname, type, rdata, prov)``: one row per RR and provenance;
   * ``rrset``: ``(rrname, type, bailiwick, rdata joined by newlines)``;
   * ``negative``: ``(rrname, type, rcode, prov)``; ``query``: ``(rrname, type, prov)``;
   * ``sample``: ``(rrname, type, rdata, sha256, task_id)``;
   * ``name_sample``: ``(rrname, type, rcode or "", sha256, task_id)`` for negatives and bare queries.

Each value is ``[time_first, time_last, count, ttl_min, ttl_max]``, extended
by ``[zone_time_first, zone_time_last, zone_only]`` once a zone-file sighting
is folded in (``core/windows.py``: traffic windows fold with traffic windows,
zone windows with zone windows, and traffic replaces a zone-only window).
Zone-file sightings (imports) are folded on their own path, so the traffic
loop is unchanged. The ``stage_*`` functions add the derived keys (reversed
name, 16-byte IP, reversed target) that both schemas store, and always give
the three zone columns.

Counts saturate (docs/storage.md, "Counts"): every count that leaves the fold
is at most ``COUNT_CEILING``, and ``saturating_add`` is the SQL every backend
adds stored counts with, so no sum ever overflows a signed 64-bit integer and
every backend stores the same value after the same batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from socket import AF_INET6, inet_aton, inet_pton
from typing import Any

from yapdns.core import rrtypes
from yapdns.core.model import Observation
from yapdns.core.names import reverse_name
from yapdns.core.normalize import COUNT_CEILING
from yapdns.core.rdata import target_name
from yapdns.core.windows import Windows, combine

Stats = list[Any]  # [time_first, time_last, count, ttl_min, ttl_max(, zone_time_first, zone_time_last, zone_only)]
NO_ZONE = [None, None, False]  # the zone columns of a row seen in traffic only
ProvKey = tuple[str, str, str]  # (sensor, evidence, source); "" for unset
ProvResolver = Callable[[set[ProvKey]], dict[ProvKey, int]]
_V4_PREFIX = b"\x00" * 10 + b"\xff\xff"  # IPv4 mapped into ::ffff:0:0/96, as rdata.ip_key


def saturating_add(least: str, stored: str, delta: str) -> str:
    """SQL for ``min(stored + delta, COUNT_CEILING)`` that never overflows, with ``least`` the dialect's
    two-argument minimum (SQLite ``min``, PostgreSQL ``LEAST``); both operands must be in 0..COUNT_CEILING."""
    return f"{least}({stored}, {COUNT_CEILING} - {delta}) + {delta}"


def merge(table: dict[Any, Stats], key: Any, st: Stats) -> None:
    """Fold the stats ``st`` into ``table[key]`` (min/max/sum, ttl min/max ignoring None)."""
    cur = table.get(key)
    if cur is None:
        table[key] = list(st)
    else:
        fold_into(cur, st)


def fold_into(cur: Stats, st: Stats) -> None:
    """Fold the stats ``st`` into the list ``cur`` in place (``merge``'s rules)."""
    if len(cur) > 5 or len(st) > 5:  # zone-file times on either side
        _merge_windows(cur, st)
    else:
        if st[0] < cur[0]:  # noqa: PLR1730 (faster than min/max here)
            cur[0] = st[0]
        if st[1] > cur[1]:  # noqa: PLR1730 (faster than min/max here)
            cur[1] = st[1]
    cur[2] = min(cur[2] + st[2], COUNT_CEILING)
    if st[3] is not None and (cur[3] is None or st[3] < cur[3]):
        cur[3] = st[3]
    if st[4] is not None and (cur[4] is None or st[4] > cur[4]):
        cur[4] = st[4]


def _merge_windows(cur: Stats, st: Stats) -> None:
    """Fold the windows of ``st`` into ``cur`` by ``core.windows.combine``; ``cur`` gains the zone columns."""
    if len(cur) == 5:
        cur.extend(NO_ZONE)
    zone = st[5:] if len(st) > 5 else NO_ZONE
    both = combine(Windows(cur[0], cur[1], *cur[5:8]), Windows(st[0], st[1], *zone))
    cur[0], cur[1], cur[5], cur[6], cur[7] = both


def with_zone(st: Stats) -> Stats:
    """``st`` with its three zone columns (``NO_ZONE`` for a row seen in traffic only)."""
    return st if len(st) > 5 else st + NO_ZONE


class FoldedBatch:
    """The rows of one write, keyed as the store keys them."""

    def __init__(self, observations: int) -> None:
        self.observations = min(observations, COUNT_CEILING)
        self.rr: dict[tuple[str, int, str, int], Stats] = {}
        self.rrset: dict[tuple[str, int, str, str], Stats] = {}
        self.negative: dict[tuple[str, int, str, int], Stats] = {}
        self.query: dict[tuple[str, int, int], Stats] = {}
        self.sample: dict[tuple[str, int, str, str, str], Stats] = {}
        self.name_sample: dict[tuple[str, int, str, str, str], Stats] = {}
        self.provs: set[int] = set()

    @property
    def single_prov(self) -> bool:
        """Whether every RR row has one provenance (then no RR key repeats across rows)."""
        return len(self.provs) <= 1


class BatchAggregate:
    """Folds observations; ``fold`` turns them into a ``FoldedBatch``.

    Plain answers (no rcode, bailiwick or sample: nearly all traffic) are
    kept per provenance under a 3-field key; everything else under the full
    identity. The provenance bucket is looked up again only when it changes
    from one observation to the next.
    """

    def __init__(self) -> None:
        self.plain: dict[tuple[Any, ...], dict[tuple[str, str, tuple[str, ...]], Stats]] = {}
        self.rich: dict[tuple[Any, ...], Stats] = {}
        self.zone: dict[tuple[Any, ...], Stats] = {}  # sightings carrying zone-file times, by the rich key
        self.observations = 0

    def add_all(self, observations: Iterable[Observation]) -> None:
        """Fold normalized observations in (the hot loop: keep it flat)."""
        plain, rich = self.plain, self.rich
        last: tuple[Any, ...] = ()
        bucket: dict[Any, Stats] = {}
        total = 0
        for o in observations:
            count = o.count
            total += count
            if o.zone_time_first is not None:
                self._add_zone(o)
                continue
            if o.rcode is None and o.bailiwick is None and o.sample is None:
                prov = (o.sensor_id, o.evidence, o.source)
                if prov != last:
                    last = prov
                    bucket = plain.setdefault(prov, {})
                table = bucket
                key: tuple[Any, ...] = (o.rrname, o.rrtype, o.rdata)
            else:
                table = rich
                key = (o.rrname, o.rrtype, o.rdata, o.rcode, o.bailiwick, o.sensor_id, o.evidence, o.source, o.sample)
            cur = table.get(key)
            if cur is None:
                table[key] = [o.time_first, o.time_last, count, o.ttl, o.ttl]
                continue
            if o.time_first < cur[0]:  # noqa: PLR1730 (faster than min/max here)
                cur[0] = o.time_first
            if o.time_last > cur[1]:  # noqa: PLR1730
                cur[1] = o.time_last
            cur[2] += count
            ttl = o.ttl
            if ttl is not None:
                if cur[3] is None or ttl < cur[3]:
                    cur[3] = ttl
                if cur[4] is None or ttl > cur[4]:
                    cur[4] = ttl
        self.observations += total

    def _add_zone(self, o: Observation) -> None:
        """Fold a sighting with zone-file times (normalized: it has rdata, no rcode)."""
        key = (o.rrname, o.rrtype, o.rdata, None, o.bailiwick, o.sensor_id, o.evidence, o.source, o.sample)
        ttl = o.ttl
        merge(self.zone, key, [o.time_first, o.time_last, o.count, ttl, ttl, *Windows.of(o)[2:]])

    def prov_keys(self) -> set[ProvKey]:
        """Every provenance the folded sightings carry."""
        keys = {_prov_key(*p) for p in self.plain}
        keys.update(_prov_key(k[5], k[6], k[7]) for k in (*self.rich, *self.zone))
        return keys

    def fold(self, prov_ids: dict[ProvKey, int]) -> FoldedBatch:
        """Expand the sightings into store rows, with provenance ids from ``prov_ids``."""
        out = FoldedBatch(self.observations)
        for (sensor, evidence, source), table in self.plain.items():
            prov = prov_ids[_prov_key(sensor, evidence, source)]
            out.provs.add(prov)
            _fold_plain(out, prov, table)
        for (name, rrtype, rdata, rcode, bailiwick, sensor, evidence, source, sample), st in self.rich.items():
            prov = prov_ids[_prov_key(sensor, evidence, source)]
            out.provs.add(prov)
            if st[2] > COUNT_CEILING:  # noqa: PLR1730 (faster than min here)
                st[2] = COUNT_CEILING
            code = _code(rrtype)
            if rdata:
                _fold_answer(out, st, (name, code, rdata), bailiwick or "", prov=prov, sample=sample)
            else:
                if rcode:
                    merge(out.negative, (name, code, rcode, prov), st)
                else:
                    merge(out.query, (name, code, prov), st)
                if sample is not None:
                    merge(out.name_sample, (name, code, rcode or "", sample.sha256, sample.task_id or ""), st)
        for (name, rrtype, rdata, _, bailiwick, sensor, evidence, source, sample), st in self.zone.items():
            prov = prov_ids[_prov_key(sensor, evidence, source)]
            out.provs.add(prov)
            _fold_answer(out, st, (name, _code(rrtype), rdata), bailiwick or "", prov=prov, sample=sample)
        return out


def fold_batches(
    batches: Iterable[Iterable[Observation]], prov_ids: Callable[[set[ProvKey]], dict[ProvKey, int]]
) -> FoldedBatch:
    """Fold the observations of one group's batches into store rows; ``prov_ids`` maps provenances to ids."""
    agg = BatchAggregate()
    for observations in batches:
        agg.add_all(observations)
    return agg.fold(prov_ids(agg.prov_keys()))


def _fold_plain(out: FoldedBatch, prov: int, table: dict[tuple[str, str, tuple[str, ...]], Stats]) -> None:
    """Fold one provenance's plain sightings; single-RR answers take the short path."""
    rr, rrset, codes = out.rr, out.rrset, _CODES
    for (name, rrtype, rdata), st in table.items():
        if st[2] > COUNT_CEILING:  # noqa: PLR1730 (summed exactly while folding; saturated as it leaves)
            st[2] = COUNT_CEILING
        code = codes.get(rrtype)
        if code is None:
            code = _code(rrtype)
        if len(rdata) != 1:
            if rdata:
                _fold_answer(out, st, (name, code, rdata), "", prov=prov, sample=None)
            else:  # a bare query
                merge(out.query, (name, code, prov), st)
            continue
        one = rdata[0]
        held = rr.setdefault((name, code, one, prov), st)  # the sighting's own list: nothing else holds it now
        if held is not st:
            fold_into(held, st)
        set_key = (name, code, "", one)
        found = rrset.get(set_key)
        if found is None:
            rrset[set_key] = list(st)
        else:
            fold_into(found, st)


def _prov_key(sensor: str | None, evidence: Any, source: str | None) -> ProvKey:
    return (sensor or "", str(evidence), source or "")


_CODES: dict[str, int] = {}


def _code(rrtype: str) -> int:
    code = _CODES.get(rrtype)
    if code is None:
        code = _CODES[rrtype] = rrtypes.rrtype_code(rrtype)
    return code


def _fold_answer(
    out: FoldedBatch, st: Stats, key: tuple[str, int, tuple[str, ...]], bailiwick: str, *, prov: int, sample: Any
) -> None:
    """Fold one answer sighting (any RRset size, bailiwick, sample) into RR, RRset and sample rows."""
    name, code, rdata = key
    for one in rdata:
        merge(out.rr, (name, code, one, prov), st)
    merge(out.rrset, (name, code, bailiwick, "\n".join(rdata)), st)
    if sample is not None:
        for one in rdata:
            merge(out.sample, (name, code, one, sample.sha256, sample.task_id or ""), st)


def derived_keys(code: int, rdata: str) -> tuple[bytes | None, str | None]:
    """``(ip, target_rev)`` of one RR: the 16-byte address of A/AAAA rdata, the reversed name an rdata points
    to (CNAME, NS, MX, ...)."""
    if code == rrtypes.A:
        return _V4_PREFIX + inet_aton(rdata), None
    if code == rrtypes.AAAA:
        return inet_pton(AF_INET6, rdata), None
    target = target_name(code, rdata)
    return None, reverse_name(target) if target else None


def stage_rr_rows(items: Iterable[tuple[tuple[str, int, str, int], Stats]]) -> list[tuple[Any, ...]]:
    """``(rrname_rev, rrname, rrtype, rdata, ip, target_rev, prov, tf, tl, n, tmin, tmax, ztf, ztl, zone_only)``
    per RR row.

    ``items`` are ``FoldedBatch.rr`` items (or some of them).
    """
    rev = reverse_name
    return [(rev(name), name, code, rdata, *derived_keys(code, rdata), prov, *with_zone(st))
            for (name, code, rdata, prov), st in items]


def rr_insert_rows(items: Iterable[tuple[tuple[str, int, str], Stats]], start: int) -> list[tuple[Any, ...]]:
    """``(id, rrname_rev, rrname, rrtype, rdata, ip, target_rev, tf, tl, n, tmin, tmax[, ztf, ztl, zone_only])``
    per record ``(rrname, rrtype, rdata)``, with the ids ``start + i``; the zone columns only where the stats
    have them."""
    rev = reverse_name
    return [(i, rev(name), name, code, rdata, *derived_keys(code, rdata), *st)
            for i, ((name, code, rdata), st) in enumerate(items, start)]


def stage_rrset_rows(items: Iterable[tuple[tuple[str, int, str, str], Stats]]) -> list[tuple[Any, ...]]:
    """``(rrname_rev, rrname, rrtype, bailiwick, rdata, tf, tl, n, tmin, tmax, ztf, ztl, zone_only)`` per
    ``FoldedBatch.rrset`` item."""
    return [(reverse_name(k[0]), *k, *with_zone(st)) for k, st in items]


def rrset_insert_rows(items: Iterable[tuple[tuple[str, int, str, str], Stats]], start: int) -> list[tuple[Any, ...]]:
    """``(id, rrname_rev, rrname, rrtype, bailiwick, rdata, tf, tl, n, tmin, tmax[, ztf, ztl, zone_only])`` per
    ``FoldedBatch.rrset`` item, with the ids ``start + i``; the zone columns only where the stats have them."""
    rev = reverse_name
    return [(i, rev(k[0]), *k, *st) for i, (k, st) in enumerate(items, start)]


def stage_grouped_rows(rows: dict[Any, Stats]) -> list[tuple[Any, ...]]:
    """``(rrname_rev, rrname, rrtype, [rcode,] prov, tf, tl, n)`` per negative or bare-query row."""
    return [(reverse_name(k[0]), *k, st[0], st[1], st[2]) for k, st in rows.items()]


def stage_sample_rows(folded: FoldedBatch) -> list[tuple[Any, ...]]:
    """``(rrname_rev, rrtype, rdata, sha256, task_id, tf, tl, n)`` per sample link."""
    return [
        (reverse_name(name), code, rdata, sha, task, st[0], st[1], st[2])
        for (name, code, rdata, sha, task), st in folded.sample.items()
    ]


def stage_name_sample_rows(folded: FoldedBatch) -> list[tuple[Any, ...]]:
    """``(rrname_rev, rrname, rrtype, rcode, sha256, task_id, tf, tl, n)`` per negative/bare-query sample link."""
    return [(reverse_name(k[0]), *k, st[0], st[1], st[2]) for k, st in folded.name_sample.items()]
