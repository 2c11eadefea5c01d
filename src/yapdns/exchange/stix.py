"""STIX 2.1 bundles that carry DNS resolutions (YAPDNS's own export, OpenCTI, MISP's STIX export...).

Reads one bundle (``{"type": "bundle", "objects": [...]}``). A resolution is
a ``domain-name`` that resolves to an ``ipv4-addr`` (A), an ``ipv6-addr``
(AAAA) or another ``domain-name`` (CNAME), said either way STIX 2.1 allows:

* a ``resolves-to`` Relationship from the domain-name to the target;
* the domain-name's ``resolves_to_refs``.

Its times: each Observed Data object whose ``object_refs`` hold both ends
gives one observation, ``first_observed``/``last_observed`` with
``number_observed`` as the count (the form YAPDNS exports). A resolution no
Observed Data covers takes the Relationship's ``start_time``/``stop_time``
(count 1); one with neither has no time and is rejected (``no_time``).

Each object of those five types is validated with the ``stix2`` library
(``stix2.parse``, STIX 2.1, custom properties allowed and ignored); an
invalid one is rejected alone (``invalid_object``) and the rest of the
bundle is kept. Objects of other types (indicators, identities, markings...)
are not resolutions and are passed over; watchlists read indicators
(``server/detection/indicators.py``). A bundle that is not JSON or not a
bundle is refused whole (``BadDocument``). Evidence ``imported``.

Time: STIX timestamps are UTC; kept to the second (fractions dropped).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import stix2
import stix2.exceptions

from yapdns.core.model import Evidence, Observation
from yapdns.exchange.errors import BadDocument, Reject

RESOLUTION_TYPES = frozenset({"domain-name", "ipv4-addr", "ipv6-addr", "relationship", "observed-data"})
RRTYPES = {"ipv4-addr": "A", "ipv6-addr": "AAAA", "domain-name": "CNAME"}
SOURCE = "stix"


@dataclass
class _Bundle:
    """The resolution objects of one bundle, by id."""

    values: dict[str, tuple[str, str]] = field(default_factory=dict)  # SCO id -> (type, value)
    pairs: dict[tuple[str, str], Any] = field(default_factory=dict)  # (domain id, target id) -> relationship
    observed: list[Any] = field(default_factory=list)


def _epoch(stamp: Any) -> int:
    when = stamp if isinstance(stamp, dt.datetime) else dt.datetime.fromisoformat(str(stamp))
    return int(when.timestamp())


def read_resolutions(data: bytes, reject: Reject, sensor_id: str) -> Iterator[Observation]:
    """The resolutions of one bundle as observations under ``sensor_id``; bad objects go to ``reject``."""
    bundle = _read(data, reject)
    covered: set[tuple[str, str]] = set()
    for seen in bundle.observed:
        refs = set(seen.object_refs)
        for pair in bundle.pairs:
            if pair[0] in refs and pair[1] in refs:
                covered.add(pair)
                yield _observation(bundle, pair, (_epoch(seen.first_observed), _epoch(seen.last_observed)),
                                   int(seen.number_observed), sensor_id)
    for pair, rel in bundle.pairs.items():
        if pair in covered:
            continue
        start = getattr(rel, "start_time", None) if rel is not None else None
        if start is None:
            reject(f"the resolution {_label(bundle, pair)} has no time (no Observed Data, no start_time)", "no_time")
            continue
        stop = getattr(rel, "stop_time", None)
        yield _observation(bundle, pair, (_epoch(start), _epoch(stop if stop is not None else start)), 1, sensor_id)


def _read(data: bytes, reject: Reject) -> _Bundle:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise BadDocument(f"not JSON: {exc}", "bad_json") from None
    if not isinstance(doc, dict) or doc.get("type") != "bundle" or not isinstance(doc.get("objects", []), list):
        raise BadDocument("not a STIX bundle (an object of type 'bundle' with a list of objects)", "not_a_bundle")
    bundle = _Bundle()
    parsed = [obj for raw in doc.get("objects", []) if (obj := _object(raw, reject)) is not None]
    for obj in parsed:
        if obj.type in RRTYPES:
            bundle.values[obj.id] = (obj.type, str(obj.value))
        elif obj.type == "observed-data" and "object_refs" in obj:
            bundle.observed.append(obj)
    for obj in parsed:
        if obj.type == "relationship" and obj.relationship_type == "resolves-to":
            _pair(bundle, (obj.source_ref, obj.target_ref), obj, reject)
        elif obj.type == "domain-name":
            for target in obj.get("resolves_to_refs", ()):
                _pair(bundle, (obj.id, target), None, reject)
    return bundle


def _object(raw: Any, reject: Reject) -> Any:
    """One validated object of a resolution type, else None (other types pass; invalid ones are rejected)."""
    if not isinstance(raw, dict) or raw.get("type") not in RESOLUTION_TYPES:
        if not isinstance(raw, dict):
            reject(f"a bundle entry that is not an object: {str(raw)[:80]}", "invalid_object")
        return None
    try:
        return stix2.parse(raw, allow_custom=True, version="2.1")
    except (stix2.exceptions.STIXError, ValueError, TypeError, KeyError, AttributeError) as exc:
        reject(f"{raw.get('type')} {str(raw.get('id'))[:80]}: {exc}", "invalid_object")
        return None


def _pair(bundle: _Bundle, pair: tuple[str, str], rel: Any, reject: Reject) -> None:
    source, target = pair
    if bundle.values.get(source, ("",))[0] != "domain-name" or target not in bundle.values:
        reject(f"resolves-to from {source} to {target}: both ends must be in the bundle, from a domain-name to an "
               "address or domain-name", "dangling_ref")
        return
    if rel is not None or pair not in bundle.pairs:
        bundle.pairs[pair] = rel


def _label(bundle: _Bundle, pair: tuple[str, str]) -> str:
    return f"{bundle.values[pair[0]][1]} -> {bundle.values[pair[1]][1]}"


def _observation(
    bundle: _Bundle, pair: tuple[str, str], times: tuple[int, int], count: int, sensor_id: str
) -> Observation:
    kind, target = bundle.values[pair[1]]
    return Observation(
        rrname=bundle.values[pair[0]][1], rrtype=RRTYPES[kind], rdata=(target,), time_first=times[0],
        time_last=times[1], count=count, sensor_id=sensor_id, source=SOURCE, evidence=Evidence.IMPORTED,
    )
