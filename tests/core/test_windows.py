"""Traffic and zone-file windows: the fold rule, the observation fields and the wire form.

1. ``combine`` equals an independent model (a traffic hull and a zone hull,
   kept apart; the stored window is the traffic hull, else the zone hull), so
   it is commutative and associative: the agent, a write group and a store
   row may fold sightings in any order and grouping;
2. normalization accepts exactly the observations whose windows are
   consistent, and says why it refuses the others;
3. a wire object with traffic times, zone times or both comes back from
   ``from_wire`` and ``to_wire`` as it went in (what the agent ships and the
   ingest API reads).
"""

from __future__ import annotations

from functools import reduce

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yapdns.core.batch import decode_ndjson, encode_ndjson
from yapdns.core.errors import InvalidObservation, MissingField
from yapdns.core.model import Observation
from yapdns.core.normalize import normalize_observation
from yapdns.core.windows import Windows, combine, sighting_fields, time_fields

Span = tuple[int, int]
SPAN = st.tuples(st.integers(0, 100), st.integers(0, 100)).map(lambda t: (min(t), max(t)))
SIGHTING = st.tuples(st.one_of(st.none(), SPAN), st.one_of(st.none(), SPAN)).filter(lambda s: s != (None, None))


def _windows(traffic: Span | None, zone: Span | None) -> Windows:
    first, last = traffic or zone  # type: ignore[misc]
    return Windows(first, last, *(zone or (None, None)), zone_only=traffic is None)


def _hull(spans: list[Span | None]) -> Span | None:
    given_spans = [s for s in spans if s is not None]
    return (min(s[0] for s in given_spans), max(s[1] for s in given_spans)) if given_spans else None


@given(st.lists(SIGHTING, min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_combine_is_the_two_hulls_in_any_order_and_grouping(sightings: list[tuple[Span | None, Span | None]],
                                                            rnd: object) -> None:
    expected = _windows(_hull([t for t, _ in sightings]), _hull([z for _, z in sightings]))
    items = [_windows(*s) for s in sightings]
    assert reduce(combine, items) == expected
    rnd.shuffle(items)  # type: ignore[attr-defined]
    split = len(items) // 2
    left, right = items[:split], items[split:]
    grouped = combine(reduce(combine, left), reduce(combine, right)) if left else reduce(combine, right)
    assert grouped == expected


@given(SIGHTING)
def test_observation_fields_and_output_keys_round_trip(sighting: tuple[Span | None, Span | None]) -> None:
    traffic, zone = sighting
    fields = sighting_fields(*(traffic or (None, None)), *(zone or (None, None)))
    obs = normalize_observation(Observation(rrname="w.example", rrtype="A", rdata=("192.0.2.1",), **fields))
    assert Windows.of(obs) == _windows(traffic, zone)
    keys = time_fields(obs)
    assert (keys.get("time_first"), keys.get("time_last")) == (traffic or (None, None))
    assert (keys.get("zone_time_first"), keys.get("zone_time_last")) == (zone or (None, None))


def test_a_missing_end_of_a_pair_takes_the_other_and_no_times_at_all_is_refused() -> None:
    assert sighting_fields(zone_last=9) == {"time_first": 9, "time_last": 9, "zone_only": True,
                                            "zone_time_first": 9, "zone_time_last": 9}
    assert sighting_fields(first=5, zone_first=2) == {"time_first": 5, "time_last": 5, "zone_time_first": 2,
                                                      "zone_time_last": 2}
    with pytest.raises(MissingField):
        sighting_fields()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"time_first": 1, "time_last": 2, "zone_time_first": 5}, "go together"),
        ({"time_first": 1, "time_last": 2, "zone_time_first": 6, "zone_time_last": 5}, "after"),
        ({"time_first": 1, "time_last": 2, "zone_time_first": 1, "zone_time_last": 3, "zone_only": True}, "zone times"),
        ({"time_first": 1, "time_last": 2, "zone_only": True}, "needs zone_time"),
        ({"time_first": 1, "time_last": 2, "zone_time_first": -1, "zone_time_last": 3}, "out of range"),
        ({"time_first": 1, "time_last": 2, "zone_only": 1}, "true or false"),
    ],
)
def test_inconsistent_windows_are_refused_with_a_reason(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidObservation, match=reason):
        normalize_observation(Observation(rrname="w.example", rrtype="A", rdata=("192.0.2.1",), **fields))  # type: ignore[arg-type]


def test_zone_times_need_rdata() -> None:
    with pytest.raises(InvalidObservation, match="need rdata"):
        normalize_observation(Observation(rrname="nx.example", rrtype="A", rcode="NXDOMAIN", time_first=1,
                                          time_last=1, zone_time_first=1, zone_time_last=1))


@pytest.mark.parametrize(
    "wire",
    [
        {"rrname": "a.example", "rrtype": "A", "rdata": ["192.0.2.1"], "time_first": 10, "time_last": 20},
        {"rrname": "a.example", "rrtype": "A", "rdata": ["192.0.2.1"], "zone_time_first": 5, "zone_time_last": 50},
        {"rrname": "a.example", "rrtype": "A", "rdata": ["192.0.2.1"], "time_first": 10, "time_last": 20,
         "zone_time_first": 5, "zone_time_last": 50, "count": 3},
    ],
)
def test_the_wire_form_keeps_each_pair_as_it_came(wire: dict[str, object]) -> None:
    batch = decode_ndjson(msgspec.json.encode(wire))
    assert batch.rejects == []
    (obs,) = batch.observations
    assert msgspec.json.decode(encode_ndjson([obs])) == wire
