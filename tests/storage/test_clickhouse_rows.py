"""The ClickHouse writer's rows, without a server: the plain sightings turned into columns directly
(``plain_parts``) give the same aggregates per key as the shared fold, and the state columns saturate and
range-check what they send."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from tests.storage.builders import T0, obs
from yapdns.core.normalize import COUNT_CEILING
from yapdns.storage.aggregate import BatchAggregate
from yapdns.storage.clickhouse import writer as w
from yapdns.storage.clickhouse.schema import LO_BITS, NONE_MAX, NONE_MIN, STATES


def _aggregate(columns: w.Columns, key_width: int) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """Rows folded by key as the server's materialized view folds them (min, max, sum per state)."""
    out: dict[tuple[Any, ...], list[int]] = {}
    fns = {"min": min, "max": max, "sum": lambda a, b: a + b}
    for row in zip(*columns.data, strict=True):
        key, states = row[:key_width], list(row[key_width:])
        cur = out.get(key)
        out[key] = states if cur is None else [fns[fn](a, b) for (_, fn), a, b in zip(STATES, cur, states, strict=True)]
    return {k: tuple(v) for k, v in out.items()}


def _rows(agg: BatchAggregate, direct: bool) -> tuple[dict[Any, Any], dict[Any, Any], list[Any]]:
    names = w.Names()
    provs = w._ids(agg.prov_keys())
    plain = w.plain_parts(agg, provs) if direct else None
    if plain is not None:
        rest = BatchAggregate()
        rest.rich, rest.zone, rest.observations = agg.rich, agg.zone, agg.observations
        agg = rest
    folded = agg.fold(provs)
    rr = w.RrColumns([*(plain or []), w.RrPart.of(folded.rr)], names, T0)
    rdx, seq = w.rdx_rows(rr, names)
    entry = w.entry_rows(folded, provs, T0, names, rr, w.plain_rrsets(plain) if plain else None)
    return _aggregate(entry, 6), _aggregate(rdx, 6), sorted(seq)


def _sightings() -> list[Any]:
    out = []
    for i in range(60):
        sensor = f"s{i % 3}"
        out.append(obs(f"h{i % 7}.example.com", "A", f"192.0.2.{i % 5}", first=T0 + i, count=i + 1, sensor=sensor,
                       ttl=None if i % 4 else 60 + i))  # fmt: skip
        out.append(obs(f"m{i % 4}.example.com", "MX", f"10 mx{i % 2}.example.net", first=T0 - i, sensor=sensor))
        out.append(obs(f"v{i % 3}.example.org", "AAAA", "2001:db8::1", last=T0 + 3 * i, sensor=sensor))
    out.append(obs("rich.example.com", "A", "192.0.2.1", bailiwick="example.com"))  # a rich sighting of a plain key
    out.append(obs("h1.example.com", "A", "192.0.2.1", rcode="NOERROR", sensor="s1"))
    out.append(obs("nx.example.com", "A", rcode="NXDOMAIN"))
    out.append(obs("pair.example.com", "A", "192.0.2.8", "192.0.2.9", sensor="s2"))
    return out


@pytest.mark.parametrize("with_rrset", [False, True])
def test_plain_sightings_as_columns_aggregate_like_the_fold(with_rrset: bool) -> None:
    sightings = _sightings() if with_rrset else _sightings()[:-1]  # a two-RR answer sends every plain key to fold
    folded_way, direct_way = BatchAggregate(), BatchAggregate()
    folded_way.add_all(sightings)
    direct_way.add_all(sightings)
    assert (w.plain_parts(direct_way, w._ids(direct_way.prov_keys())) is None) == with_rrset
    assert _rows(direct_way, direct=True) == _rows(folded_way, direct=False)


def test_counts_above_the_ceiling_saturate_as_they_leave() -> None:
    n = 2 * COUNT_CEILING  # plain sightings reach state_columns summed exactly, never saturated by the fold
    states = w.state_columns([[T0, T0, n, None, None], [T0, T0, 5, 60, 60]], ins=T0)
    assert [(hi << LO_BITS) + lo for hi, lo in zip(states[2], states[3], strict=True)] == [COUNT_CEILING, 5]
    assert (states[4][0], states[5][0], states[6][0], states[7][0]) == (NONE_MIN, NONE_MAX, NONE_MIN, NONE_MAX)
    assert (states[4][1], states[5][1]) == (60, 60)


def test_a_time_out_of_the_64_bit_range_is_refused_before_sending() -> None:
    with pytest.raises(OverflowError):
        w.state_columns([[T0, 2**63, 1, None, None]], ins=T0)
    with pytest.raises(OverflowError):
        w.Columns(w.ENTRY_KEY + w.STATE_COLUMNS).add((1, "x.", 1, "", "", 0), (-(2**63) - 1, 0, 0, 1, 0, 0, 0, 0, 0))


def test_reversed_names_are_kept_across_writes_up_to_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(w, "NAMES_MAX", 3)
    names = w.Names()
    assert names.revs(["a.example", "b.example", "a.example"]) == ["example.a.", "example.b.", "example.a."]
    assert names.revs(["c.example", "d.example"]) == ["example.c.", "example.d."]  # over the bound: starts over
    assert len(names._rev) == 2
    counts: defaultdict[str, int] = defaultdict(int)
    for rev in names.revs(["c.example"] * 3):
        counts[rev] += 1
    assert counts == {"example.c.": 3}


def test_an_out_of_range_negative_answer_is_refused_before_any_part_is_sent() -> None:
    """The ``rdx`` parts go out while ``entry`` is built: a bad value only ``entry`` holds must stop the write
    before them."""
    sent: list[str] = []

    class Shard:
        database = "db"

        def insert(self, table: str, columns: Any, data: Any) -> None:
            sent.append(table)

    applier = w.ClickHouseApplier.__new__(w.ClickHouseApplier)
    applier._names = w.Names()
    applier._topo = type("Topo", (), {"shards": [Shard()]})()  # type: ignore[assignment]
    agg = BatchAggregate()
    agg.add_all([obs("a.example.com", "A", "192.0.2.1")])
    folded = agg.fold(w._ids(agg.prov_keys()))
    folded.negative[("nx.example.com", 1, "NXDOMAIN", 0)] = [T0, 2**63, 1, None, None]
    with pytest.raises(OverflowError):
        applier._insert(folded, {}, [], set(), [], T0)
    assert sent == []
