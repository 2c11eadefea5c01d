"""``is_canonical``: the per-record check behind a client's promise of canonical records (``X-Canonical``).

It may answer True only where ``normalize_observation`` returns the observation as it is; and it must answer
True for the common canonical shapes, or the promise saves nothing. Checked by hypothesis against
``normalize_observation``, and through the wire decoder: a promised batch decodes exactly as an unpromised one.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.test_normalize_properties import (
    ANY_LABEL,
    ANY_NAME,
    ANY_RCODE,
    ANY_RDATA,
    ANY_RRTYPE,
    ANY_TIME,
    CANONICAL_LDH,
    IPV6,
    NAME,
    _outcome,
)
from yapdns.core import batch
from yapdns.core.canonical import is_canonical
from yapdns.core.errors import InvalidObservation
from yapdns.core.model import Evidence, Observation, SampleRef
from yapdns.core.normalize import normalize_observation


def _obs(name: object, rrtype: object, rdata: list[str], first: object, last: object, **kw: object) -> Observation:
    return Observation(rrname=name, rrtype=rrtype, rdata=tuple(rdata), time_first=first, time_last=last, **kw)  # type: ignore[arg-type]


def _mostly(good: st.SearchStrategy[object], anything: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Valid values most of the time (so that whole observations pass), anything else the rest."""
    return st.one_of(*[good] * 7, anything)


SHAPED = st.one_of(  # a type with rdata of its kind, canonical or not
    st.tuples(st.just("A"), st.lists(st.one_of(st.ip_addresses(v=4).map(str), st.sampled_from(["192.0.2.01", " 1.2.3.4"])), max_size=3)),
    st.tuples(st.just("A"), st.lists(st.ip_addresses(v=4).map(str), max_size=4).map(sorted)),
    st.tuples(st.just("AAAA"), st.lists(IPV6.map(lambda a: a.exploded if a.is_global else str(a)), max_size=3)),
    st.tuples(st.sampled_from(["NS", "CNAME", "PTR", "ns"]), st.lists(st.one_of(CANONICAL_LDH, NAME), max_size=3)),
)


@settings(max_examples=600, deadline=None)
@given(
    _mostly(CANONICAL_LDH, ANY_NAME), st.one_of(SHAPED, SHAPED, SHAPED, st.tuples(ANY_RRTYPE, ANY_RDATA)),
    _mostly(st.integers(0, 100), ANY_TIME), _mostly(st.integers(100, 2**32 - 1), ANY_TIME),
    _mostly(st.just(1), st.sampled_from([5, 0, True, 2**63])), _mostly(st.none(), st.sampled_from([0, 60, -1, 2**31, True])),
    _mostly(st.none(), ANY_RCODE), _mostly(st.none(), st.one_of(st.just(""), ANY_NAME)),
    _mostly(st.none(), ANY_LABEL), _mostly(st.none(), ANY_LABEL), st.sampled_from(list(Evidence)),
    _mostly(st.none(), st.builds(SampleRef, st.sampled_from(["ab" * 32, "AB" * 32, ""]), st.none())),
)  # fmt: skip
def test_true_only_where_normalizing_keeps_the_observation_as_it_is(
    name: object, typed: tuple[object, list[str]], first: object, last: object, count: object, ttl: object,
    rcode: object, bailiwick: object, sensor: object, source: object, evidence: Evidence, sample: SampleRef | None,
) -> None:  # fmt: skip
    rrtype, rdata = typed
    obs = _obs(name, rrtype, rdata, first, last, count=count, ttl=ttl, rcode=rcode, bailiwick=bailiwick,
               sensor_id=sensor, source=source, evidence=evidence, sample=sample)  # fmt: skip
    if is_canonical(obs):
        assert _outcome(normalize_observation, obs) == _outcome(lambda o: o, obs)


@settings(max_examples=600, deadline=None)
@given(st.one_of(CANONICAL_LDH, ANY_NAME, st.text(max_size=20)), st.one_of(SHAPED, st.tuples(ANY_RRTYPE, ANY_RDATA)))
def test_names_and_rdata_it_proves_are_the_normalized_ones(name: object, typed: tuple[object, list[str]]) -> None:
    rrtype, rdata = typed
    obs = _obs(name, rrtype, rdata, 10, 20, ttl=60, sensor_id="s1")
    if is_canonical(obs):
        assert _outcome(normalize_observation, obs) == _outcome(lambda o: o, obs)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(CANONICAL_LDH, ANY_NAME), st.sampled_from(["A", "AAAA", "NS", "CNAME", "PTR"]), ANY_RDATA,
    st.integers(0, 2**32 - 1), st.integers(0, 1000), st.integers(1, 1000), st.one_of(st.none(), st.integers(0, 86400)),
    st.sampled_from([None, "s1", "s1/x"]),
)  # fmt: skip
def test_true_for_normalized_observations_of_the_common_shapes(
    name: object, rrtype: str, rdata: list[str], first: int, span: int, count: int, ttl: int | None, sensor: str | None
) -> None:
    try:
        done = normalize_observation(_obs(name, rrtype, rdata, first, first + span, count=count, ttl=ttl,
                                          sensor_id=sensor))  # fmt: skip
    except InvalidObservation:
        return
    if done.time_last > 2**32 - 1 or any(not part.isascii() for part in (done.rrname, *done.rdata)):
        return
    simple = all(c.isalnum() or c in "._-" for c in done.rrname) and done.rrname != "."
    if simple:  # a simple owner name, address or name rdata: proven without normalizing
        assert is_canonical(done)


NOT_CANONICAL = [
    {"rrname": "WWW.Example.COM.", "rrtype": "A", "rdata": "192.0.2.1", "time_first": 10, "time_last": 20},
    {"rrname": "www.example.com", "rrtype": "a", "rdata": "192.0.2.1", "time_first": 10, "time_last": 20},
    {"rrname": "www.example.com", "rrtype": "A", "rdata": ["192.0.2.2", "192.0.2.1", "192.0.2.1"],
     "time_first": 10, "time_last": 20},
    {"rrname": "www.example.com", "rrtype": "AAAA", "rdata": "2001:DB8:0:0::1", "time_first": 10, "time_last": 20},
    {"rrname": "www.example.com", "rrtype": "CNAME", "rdata": "Target.Example.", "time_first": 10, "time_last": 20},
    {"rrname": "www.example.com", "rrtype": "A", "rdata": "192.0.2.1", "time_first": 10.7, "time_last": 20.2},
    {"rrname": "www.example.com", "rrtype": "A", "rdata": "192.0.2.1", "time_first": 30, "time_last": 20},
    {"rrname": "www.example.com", "rrtype": "A", "rdata": "999.0.2.1", "time_first": 10, "time_last": 20},
    {"rrname": "www.example.com", "rrtype": "A", "rcode": "NOERROR", "time_first": 10, "time_last": 20},
    {"rrname": "www.example.com", "rrtype": "A", "rdata": "192.0.2.1", "time_first": 10, "time_last": 20,
     "bailiwick": "Example.COM."},
    {"rrname": "bad..name", "rrtype": "A", "rdata": "192.0.2.1", "time_first": 10, "time_last": 20},
]
CANONICAL = [
    {"rrname": "www.example.com", "rrtype": "A", "rdata": ["192.0.2.1", "192.0.2.2"], "time_first": 10,
     "time_last": 20, "count": 3, "ttl": 300},
    {"rrname": "www.example.com", "rrtype": "AAAA", "rdata": "2001:db8::1", "time_first": 10, "time_last": 20},
    {"rrname": "www.example.com", "rrtype": "CNAME", "rdata": "target.example", "time_first": 10, "time_last": 20},
    {"rrname": "www.example.com", "rrtype": "A", "rcode": "NXDOMAIN", "time_first": 10, "time_last": 20},
]


def _decode(lines: list[dict[str, object]], canonical: bool) -> batch.DecodedBatch:
    return batch.decode_ndjson(b"\n".join(json.dumps(o).encode() for o in lines), canonical=canonical)


def test_a_promised_batch_decodes_exactly_as_an_unpromised_one() -> None:
    lines = NOT_CANONICAL + CANONICAL
    assert _decode(lines, True) == _decode(lines, False)
    assert len(_decode(lines, False).rejects) == 3


def test_a_promise_skips_normalizing_only_the_records_it_proves(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    normalized: list[str] = []

    def counting(obs: Observation) -> Observation:
        normalized.append(obs.rrname)
        return normalize_observation(obs)

    monkeypatch.setattr(batch, "normalize_observation", counting)
    decoded = _decode(NOT_CANONICAL + CANONICAL, True)
    assert len(normalized) == len(NOT_CANONICAL)  # every record it could not prove canonical, and no other
    assert len(decoded.observations) == len(NOT_CANONICAL) + len(CANONICAL) - 3
    normalized.clear()
    _decode(CANONICAL, False)
    assert len(normalized) == len(CANONICAL)  # without the promise, every record is normalized
