"""Property test of the write path, on every backend: any sequence of groups folds exactly.

Random writes over a small set of records (repeats across and inside
groups, several provenances, one-RR and multi-RR answers, bailiwicks, TTLs
known or not, times going backwards, replayed batch ids, sightings in
traffic, in zone files only, or both) are applied as separate groups, so
later groups meet records the writer has cached (the SQLite writer updates
those by row id); every record, RRset and provenance aggregate must equal
the one folded in Python here. The model keeps the traffic and the zone
window apart and derives the stored form from them (``time_*`` = traffic,
else zone), independently of ``core.windows.combine``. Each example writes
under its own domain, so one store serves them all.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.storage.builders import T0, by_name, obs
from tests.storage.conftest import StoreFactory
from yapdns.core.model import Observation
from yapdns.storage.base import BatchRef

_EXAMPLE = itertools.count()
_ADDRS = ["192.0.2.1", "192.0.2.2", "198.51.100.7"]

one_obs = st.tuples(
    st.sampled_from(["a", "b", "c"]),  # host
    st.lists(st.sampled_from(_ADDRS), min_size=1, max_size=2, unique=True),  # the RRset
    st.integers(-50, 50),  # time offset
    st.integers(1, 3),  # count
    st.one_of(st.none(), st.integers(30, 90)),  # ttl
    st.sampled_from(["s1", "s2", "s2/x"]),  # sensor
    st.sampled_from([None, "example"]),  # bailiwick
    st.sampled_from(["traffic", "traffic", "zone", "both"]),  # where it was seen
    st.integers(-80, 80),  # zone window offset
)
groups = st.lists(st.lists(one_obs, min_size=1, max_size=6), min_size=1, max_size=6)


def _hull(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])


def _merge(table: dict[Any, list[Any]], key: Any, o: Observation) -> None:
    """``[traffic window, zone window, count, ttl_min, ttl_max]``, each window a hull of its own sightings."""
    traffic = None if o.zone_only else (o.time_first, o.time_last)
    zone = None if o.zone_time_first is None else (o.zone_time_first, o.zone_time_last)
    cur = table.setdefault(key, [None, None, 0, None, None])
    cur[0], cur[1], cur[2] = _hull(cur[0], traffic), _hull(cur[1], zone), cur[2] + o.count
    if o.ttl is not None:
        cur[3] = o.ttl if cur[3] is None else min(cur[3], o.ttl)
        cur[4] = o.ttl if cur[4] is None else max(cur[4], o.ttl)


def _stored(model: list[Any], with_ttl: bool = True) -> list[Any]:
    """The model as the store shows it: ``time_first, time_last, count, [ttl_min, ttl_max,] zone window, zone_only``."""
    traffic, zone, count = model[:3]
    first, last = traffic or zone
    ttl = model[3:5] if with_ttl else []
    return [first, last, count, *ttl, *(zone or (None, None)), traffic is None]


def _got(r: Any, with_ttl: bool = True) -> list[Any]:
    ttl = [r.ttl_min, r.ttl_max] if with_ttl else []
    return [r.time_first, r.time_last, r.count, *ttl, r.zone_time_first, r.zone_time_last, r.zone_only]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(groups=groups, replay=st.booleans())
def test_any_sequence_of_groups_folds_exactly(store_factory: StoreFactory, groups: list[Any], replay: bool) -> None:
    store = _shared(store_factory)
    domain = f"p{next(_EXAMPLE)}.example"
    records: dict[tuple[str, str], list[Any]] = {}
    rrsets: dict[tuple[str, str, tuple[str, ...]], list[Any]] = {}
    provs: dict[tuple[str, str, str], list[Any]] = {}
    for g, group in enumerate(groups):
        batch = []
        for host, addrs, dt, count, ttl, sensor, bailiwick, seen, dz in group:
            zone = None if seen == "traffic" else (T0 + dz, T0 + dz + 7)
            o = obs(f"{host}.{domain}", "A", *addrs, first=T0 + dt, last=T0 + dt + 5, count=count, ttl=ttl,
                    sensor=sensor, bailiwick=bailiwick, zone=zone, traffic=seen != "zone")
            batch.append(o)
            for rdata in o.rdata:
                _merge(records, (o.rrname, rdata), o)
                _merge(provs, (o.rrname, rdata, sensor), o)
            _merge(rrsets, (o.rrname, o.bailiwick or "", o.rdata), o)
        ref = BatchRef("prop", f"{domain}-{g}", len(batch), 0)
        assert not store.write(batch, ref).replayed
        if replay:
            assert store.write(batch, ref).replayed
    got = {(r.rrname, r.rdata): _got(r) for r in store.iter_records(by_name(f"*.{domain}", limit=1000))}
    assert got == {k: _stored(v) for k, v in records.items()}
    got_sets = {(r.rrname, r.bailiwick or "", r.rdata): _got(r)
                for r in store.iter_rrsets(by_name(f"*.{domain}", limit=1000))}
    assert got_sets == {(n, b, tuple(sorted(rd))): _stored(v) for (n, b, rd), v in rrsets.items()}
    for name, rdata in records:
        seen = {p.sensor_id: _got(p, with_ttl=False) for p in store.provenance(name, "A", rdata)}
        want = {s: _stored(v, with_ttl=False) for (n, r, s), v in provs.items() if (n, r) == (name, rdata)}
        assert seen == want


_SHARED: list[Any] = []  # [factory, store]: the factory is kept, so its identity is never reused


def _shared(factory: StoreFactory) -> Any:
    """One store per fixture instance (hypothesis runs the test many times with the same fixture)."""
    if not _SHARED or _SHARED[0] is not factory:
        _SHARED[:] = [factory, factory()]
    return _SHARED[1]
