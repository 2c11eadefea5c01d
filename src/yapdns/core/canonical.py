"""Canonical fast paths: building observations that are canonical without re-checking what is known to be.

``core/normalize.py`` holds the normalization contract; this module holds the shortcuts that keep to it, for
producers that make one template per distinct RRset (the wire decoders today; any parser that earns the same
promise later):

* ``normalize_template`` equals ``normalize_observation`` of the template its fields make (same result, same
  errors), but builds the observation once and checks only the fields a template takes;
* ``canonical_template`` additionally skips the name and rdata checks, for a producer whose names and rdata are
  canonical by construction. The producer earns that promise with tests against ``normalize_name`` and
  ``normalize_rdata`` (the C wire decoder's differential tests and fuzzer do);
* ``is_canonical`` is the check behind a client's promise (the agent's ``X-Canonical`` batches): a cheap,
  per-record proof that ``normalize_observation`` would return the observation as it is, for the common shapes
  (simple names, address and name rdata); any other shape answers False and is normalized;
* ``Canonical`` is a line parser's promise that the observations it returns are canonical already (``ParseRun``
  passes them on without normalizing), and ``CanonicalKeys`` how a parser keeps it cheaply: it learns, once per
  distinct record, what ``normalize_observation`` makes of its name, type, rdata and rcode. The parsers earn the
  promise with a differential test over every golden sample and replays at the edges of each field they check
  (``tests/agent/parsers/test_canonical_promise.py``).

Property tests (``tests/core/test_normalize_properties.py``) check both against ``normalize_observation``.
"""

from __future__ import annotations

from itertools import pairwise

from msgspec.structs import replace

from yapdns.core.errors import InvalidObservation
from yapdns.core.model import Evidence, Observation
from yapdns.core.names import is_simple_name, normalize_name
from yapdns.core.normalize import (
    CANONICAL_RCODES,
    CANONICAL_TYPES,
    MAX_COUNT,
    MAX_RRSET,
    MAX_RRSET_CHARS,
    MAX_TIME,
    canonical_type_code,
    label_is_canonical,
    normalize_observation,
    normalize_rrset,
    scalars_canonical,
)
from yapdns.core.rdata import NAME_TYPES, normalize_rdata
from yapdns.core.rrtypes import AAAA, A


def normalize_template(
    rrname: str,
    rrtype: str,
    rdata: tuple[str, ...],
    rcode: str | None,
    *,
    bailiwick: str | None,
    sensor_id: str | None,
    source: str | None,
    evidence: Evidence = Evidence.DIRECT,
) -> Observation:
    """``normalize_observation`` of the template these fields make (times 0, count 1, no TTL, no sample).

    For wire decoders, which make one template per distinct RRset: when the type, rcode and labels are
    canonical already, only the name, rdata and bailiwick go through their caches, and the observation is
    built once, without the checks of the fields it does not take. Equal result, equal errors (a property
    test checks it).
    """
    code = _template_code(rrtype, rdata, rcode, bailiwick, sensor_id, source, evidence)
    if code is None:
        return normalize_observation(_template(rrname, rrtype, rdata, rcode, bailiwick, sensor_id, source, evidence))
    name = normalize_name(rrname)  # the same checks, in the same order, as normalize_observation's fast path
    canonical = normalize_rrset(code, rdata) if rdata else ()
    bailiwick = None if bailiwick is None else normalize_name(bailiwick)
    return _template(name, rrtype, canonical, rcode, bailiwick, sensor_id, source, evidence)


def canonical_template(
    rrname: str,
    rrtype: str,
    rdata: tuple[str, ...],
    rcode: str | None,
    *,
    bailiwick: str | None,
    sensor_id: str | None,
    source: str | None,
    evidence: Evidence = Evidence.DIRECT,
) -> Observation:
    """``normalize_template`` for a decoder whose names and rdata are canonical by construction.

    The caller promises that ``rrname`` is a plain ``str`` that ``normalize_name`` keeps as it is, and each
    item of ``rdata`` one that ``normalize_rdata`` keeps (the C wire decoder makes them so, and its tests
    check the promise on every message they decode). Those are the costly checks, and they are skipped;
    everything else is checked as ``normalize_template`` checks it, and an RRset is still sorted and
    deduplicated. Equal result (a property test checks it on canonical input).
    """
    if _template_code(rrtype, rdata, rcode, bailiwick, sensor_id, source, evidence) is None or len(rdata) > MAX_RRSET:
        return normalize_template(
            rrname, rrtype, rdata, rcode, bailiwick=bailiwick, sensor_id=sensor_id, source=source, evidence=evidence
        )
    if len(rdata) > 1:
        rdata = tuple(sorted(set(rdata)))
    bailiwick = None if bailiwick is None else normalize_name(bailiwick)
    return _template(rrname, rrtype, rdata, rcode, bailiwick, sensor_id, source, evidence)


def _template_code(
    rrtype: str,
    rdata: tuple[str, ...],
    rcode: str | None,
    bailiwick: str | None,
    sensor_id: str | None,
    source: str | None,
    evidence: Evidence,
) -> int | None:
    """The type code when every field of a template but the name and rdata is canonical (and rdata a tuple),
    else None."""
    code = CANONICAL_TYPES.get(rrtype) if type(rrtype) is str else None
    if (
        code is None
        or type(rdata) is not tuple
        or not (rcode is None or (type(rcode) is str and rcode in CANONICAL_RCODES))
        or not label_is_canonical(sensor_id)
        or not label_is_canonical(source)
        or type(evidence) is not Evidence
        or bailiwick == ""
    ):
        return None
    return code


def _template(
    rrname: str,
    rrtype: str,
    rdata: tuple[str, ...],
    rcode: str | None,
    bailiwick: str | None,
    sensor_id: str | None,
    source: str | None,
    evidence: Evidence,
) -> Observation:
    """The template observation of these fields, as given: times 0, count 1, no TTL, no sample."""
    return Observation(
        rrname=rrname,
        rrtype=rrtype,
        rdata=rdata,
        time_first=0,
        time_last=0,
        rcode=rcode,
        bailiwick=bailiwick,
        sensor_id=sensor_id,
        source=source,
        evidence=evidence,
    )


class Canonical(list[Observation]):
    """What a line parser returns to promise that each observation in it equals ``normalize_observation`` of
    itself (plain ``str`` fields, the run's sensor id set). ``ParseRun`` then skips normalizing them; any other
    list is normalized as before, so a parser makes the promise line by line, only where it checked it."""

    __slots__ = ()


TTL_LIMIT = 2**31  # a TTL is canonical below this


Template = tuple[str, str, tuple[str, ...], "str | None"]  # canonical rrname, rrtype, rdata, rcode
UNSEEN: Template = ("", "", (), None)  # ``known.get(key, UNSEEN) is UNSEEN``: a key not learnt yet


class CanonicalKeys:
    """The canonical name, type, rdata and rcode of the records a parser makes, learnt once per record.

    A key is whatever the parser builds an observation's name, type, rdata and rcode from (for one answer per
    line: the query, type and answer fields as read). ``learn(key, obs)`` normalizes ``obs`` once and remembers
    what ``normalize_observation`` made of those four fields, or None when it refused it. A parser then builds
    the observations of a known key with them directly, as canonical, provided it checked their other fields
    itself: plain ``int`` times in ``0..MAX_TIME``, a count in ``1..MAX_COUNT``, a TTL in ``0..TTL_LIMIT - 1`` or
    None, canonical labels (the run's sensor id, a constant source) and evidence, no bailiwick, sample or zone
    times; it asks only about such observations, so a refusal is about the four fields. The differential test
    (``tests/agent/parsers/test_canonical_promise.py``) holds each parser to this. Bounded: when full, new keys
    are still answered, not remembered.
    """

    __slots__ = ("_limit", "known")

    def __init__(self, limit: int = 16384) -> None:
        self.known: dict[object, Template | None] = {}  # read directly by hot parsers: ``known.get(key, UNSEEN)``
        self._limit = limit

    def learn(self, key: object, obs: Observation) -> Observation | None:
        """``normalize_observation(obs)``, or None if it refuses ``obs`` (the run normalizes it then); its
        canonical ``(rrname, rrtype, rdata, rcode)`` (or None) is remembered under ``key``."""
        done = normalized_or_none(obs) if obs.bailiwick is None else None
        if len(self.known) < self._limit:
            self.known[key] = None if done is None else template_of(done)
        return done


def normalized_or_none(obs: Observation) -> Observation | None:
    """``normalize_observation(obs)``, or None where it raises (the run's normalization counts the reason)."""
    try:
        return normalize_observation(obs)
    except Exception:  # the run normalizes it again and counts the reason
        return None


def template_of(done: Observation) -> Template:
    """The canonical name, type, rdata and rcode of a normalized observation (plain ``str``: both paths of
    ``normalize_observation`` make them so)."""
    return (done.rrname, done.rrtype, done.rdata, done.rcode)


_SAME = ("", (), None)  # a remembered record whose name, rdata and rcode were canonical as they came


class NormalizeMemo:
    """``normalize_observation`` for a stream in which the same records recur (a log, an ingest request).

    It remembers, for up to ``limit`` records ``(rrname, rrtype, rdata, rcode)`` of a canonical type, the
    canonical name, rdata and rcode that ``normalize_observation`` gave them. An observation of a remembered
    record with no bailiwick, sample or zone-file times, canonical labels and evidence, times, count and TTL in
    range and plain ``str`` fields is then rebuilt with them (or returned as it is, when they were canonical
    already) without the name and rdata caches; every other observation goes through ``normalize_observation``.
    Equal result, equal errors (a property test checks it, and the golden tests run every parser through it).
    Not thread-safe by design: one memo per parse run or request.
    """

    __slots__ = ("_known", "_limit")

    def __init__(self, limit: int = 16384) -> None:  # ~300 bytes a record: a few MiB per input
        self._known: dict[tuple[str, str, tuple[str, ...], str | None], tuple[str, tuple[str, ...], str | None]] = {}
        self._limit = limit

    def normalize(self, obs: Observation) -> Observation:
        """``normalize_observation(obs)``."""
        rdata, rcode = obs.rdata, obs.rcode
        first, last, count, ttl = obs.time_first, obs.time_last, obs.count, obs.ttl
        if (
            obs.bailiwick is None
            and obs.sample is None
            and type(first) is int
            and type(last) is int
            and 0 <= first <= last <= MAX_TIME
            and type(count) is int
            and 1 <= count <= MAX_COUNT
            and (ttl is None or (type(ttl) is int and 0 <= ttl < 2**31))
            and obs.zone_time_first is None
            and obs.zone_time_last is None
            and obs.zone_only is False
            and type(obs.evidence) is Evidence
            and type(rdata) is tuple
            and (known := self._known.get((obs.rrname, obs.rrtype, rdata, rcode))) is not None
            and (rcode is None or type(rcode) is str)  # not a str subclass that equals a remembered rcode
            and _plain(obs)
            and label_is_canonical(obs.sensor_id)
            and label_is_canonical(obs.source)
        ):
            return obs if known is _SAME else replace(obs, rrname=known[0], rdata=known[1], rcode=known[2])
        done = normalize_observation(obs)
        rrtype = obs.rrtype
        if (
            (rcode is None or type(rcode) is str)  # only what the first branch can use
            and len(self._known) < self._limit
            and type(rrtype) is str
            and rrtype in CANONICAL_TYPES
            and _plain(obs)
        ):
            same = done.rrname == obs.rrname and done.rdata == rdata and done.rcode == rcode
            self._known[(obs.rrname, rrtype, rdata, rcode)] = _SAME if same else (done.rrname, done.rdata, done.rcode)
        return done


def _plain(obs: Observation) -> bool:
    """Whether the key fields of ``obs`` are plain ``str`` (a subclass that compares equal is never remembered)."""
    rdata = obs.rdata
    if type(obs.rrname) is not str or type(obs.rrtype) is not str or type(rdata) is not tuple:
        return False
    if len(rdata) == 1:
        return type(rdata[0]) is str
    return all(type(item) is str for item in rdata)


_CHEAP_RDATA = frozenset({A, AAAA, *NAME_TYPES})  # rdata types whose normalization is cheap and uncached


def is_canonical(obs: Observation) -> bool:
    """True only if ``normalize_observation(obs)`` returns ``obs`` as it is (equal, no error), proven cheaply.

    For a batch a client promises canonical: the server checks the promise per record instead of normalizing
    it. Every field is checked as the fast path of ``normalize_observation`` checks it, the owner name only when
    it is a simple lowercase LDH name (``normalize_name``'s fast path), rdata only of address and name types
    (one uncached ``normalize_rdata`` each), an RRset only when sorted without repeats. False means: not
    proven (normalize it), never that ``obs`` is invalid. A property test holds it to ``normalize_observation``.
    """
    code = canonical_type_code(obs.rrtype)
    if code is None or code not in _CHEAP_RDATA or obs.bailiwick is not None or not is_simple_name(obs.rrname):
        return False
    if not scalars_canonical(obs):
        return False
    rdata = obs.rdata
    if len(rdata) > 1 and not _sorted_and_storable(rdata):
        return False
    try:
        for item in rdata:
            if type(item) is not str or normalize_rdata(code, item) != item:
                return False
    except InvalidObservation:
        return False
    return True


def _sorted_and_storable(rdata: tuple[str, ...]) -> bool:
    """Whether an RRset is in the order ``normalize_rrset`` gives (sorted, no repeats), within ``MAX_RRSET``
    items and ``MAX_RRSET_CHARS`` characters joined."""
    if len(rdata) > MAX_RRSET or sum(map(len, rdata)) + len(rdata) - 1 > MAX_RRSET_CHARS:
        return False
    return all(a < b for a, b in pairwise(rdata))
