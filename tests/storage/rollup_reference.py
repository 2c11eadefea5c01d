"""The zone read of ``RollupReader`` as it was before PostgreSQL merged its passes (four statements: per type, a
distinct name count, the busiest names, a join to ``prov`` per provenance), verbatim in SQL: the oracle that the
merged read's figures are checked against, and the *before* of ``benchmarks/zone_rollup.py``."""

from __future__ import annotations

from typing import Any

from yapdns.core.names import unreverse_name
from yapdns.core.normalize import COUNT_CEILING
from yapdns.storage.base import NameRollup, NameSummary
from yapdns.storage.query import NameMatch
from yapdns.storage.rollup import SOURCE_PARTS, _provenance, _rollup, rollup_source


def four_pass_rollup(store: Any, name: str, below: bool = True, top: int = 10) -> NameRollup:
    """``store.name_rollup(name, below, top)`` (uncached) read the former way."""
    store._rollup_current()
    lo, hi = NameMatch("suffix" if below else "exact", name).key_range()
    where, params = ("rrname_rev > ? AND rrname_rev < ?", (lo, hi)) if below else ("rrname_rev = ?", (lo,))
    src, params = f"{rollup_source(where)} AS name_rollup", params * SOURCE_PARTS  # big names' rows, small ones' records
    types = store._summed(
        "SELECT rrtype, sum(records), sum(rrsets), SUM(count), min(time_first), max(time_last), "
        f"min(zone_time_first), max(zone_time_last) FROM {src} GROUP BY rrtype",
        params,
    )
    if not types:
        return _rollup([], 0, [], [])
    names, busiest = 1, list[NameSummary]()
    if below:
        names = int(store._rows(store._sq(f"SELECT count(DISTINCT rrname_rev) FROM {src}"),
                                params)[0][0])
        found = store._summed(
            "SELECT rrname_rev, sum(records) AS nr, SUM(count) AS nc, coalesce(min(time_first), "
            f"min(zone_time_first)), coalesce(max(time_last), max(zone_time_last)) FROM {src} "
            f"GROUP BY rrname_rev ORDER BY nc DESC, rrname_rev LIMIT {int(top)}",
            params,
        ) if top > 0 else []
        busiest = [NameSummary(unreverse_name(r[0]), int(r[1]), min(int(r[2]), COUNT_CEILING), int(r[3] or 0),
                               int(r[4] or 0)) for r in found]
    seen = store._summed(
        "SELECT p.sensor, p.evidence, p.source, SUM(r.count), min(r.time_first), max(r.time_last), "
        f"min(r.zone_time_first), max(r.zone_time_last) FROM {src.replace('AS name_rollup', 'AS r')} "
        "JOIN prov p ON p.id = r.prov GROUP BY p.sensor, p.evidence, p.source "
        "ORDER BY p.sensor, p.evidence, p.source",
        params,
    )
    return _rollup(types, names, busiest, [_provenance(r) for r in seen])
