"""Observation-level normalization: the gate every observation passes, in agent and server.

``normalize_observation`` validates every field and returns an observation
whose keys are canonical, so that two sightings of the same RR compare equal.
It is idempotent. Invalid input raises a subclass of ``InvalidObservation``
whose ``code`` names the reason.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import dns.rcode
import msgspec

from yapdns.core import rrtypes
from yapdns.core.errors import InvalidObservation, InvalidRdata, InvalidTime, InvalidValue
from yapdns.core.model import Evidence, Observation, SampleRef
from yapdns.core.names import normalize_name
from yapdns.core.rdata import normalize_rdata

MAX_TIME = 2**32 - 1  # 2106; DNSDB and COF use 32-bit epochs in practice
MAX_RRSET = 1024
# An RRset's rdata joined by newlines: the presentation form of a DNS message's 65,535 bytes is at most four
# times as long (``\DDD`` per byte at worst), so no RRset a server can send is longer. Every store keeps a record
# of any length up to this (PostgreSQL's unique keys index a digest of the rdata, docs/storage.md "Keys"); one
# RR's rdata is bounded the same way by core/rdata.py.
MAX_RRSET_CHARS = 65535 * 4
# A count is a number of sightings. One observation may carry at most MAX_COUNT (an import's aggregate
# included: far above any real pDNS counter); stored sums saturate at COUNT_CEILING instead of overflowing
# 64-bit integers (docs/storage.md, "Counts"). Two maxima summed never overflow: 2 * 2**62 - 1 < 2**63.
MAX_COUNT = 2**40
COUNT_CEILING = 2**62
_SHA256 = re.compile(r"[0-9a-f]{64}")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}")
NODATA = "NODATA"


def normalize_rcode(value: str | int | None) -> str | None:
    """Canonical rcode mnemonic (``NXDOMAIN``, ``SERVFAIL``...), or ``NODATA``."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return _rcode_text(value)
    if not isinstance(value, str):
        raise InvalidValue("rcode must be a string or number")
    text = value.strip().upper()
    if text in (NODATA, "NOERROR"):
        return text
    try:
        return dns.rcode.to_text(dns.rcode.from_text(text))
    except (dns.rcode.UnknownRcode, ValueError):
        raise InvalidValue(f"unknown rcode {value[:30]!r}") from None


@lru_cache(maxsize=256)
def _rcode_text(value: int) -> str:
    """The mnemonic of a numeric rcode (wire decoders ask for the same few again and again)."""
    try:
        return dns.rcode.to_text(dns.rcode.Rcode.make(value))
    except ValueError:
        raise InvalidValue(f"unknown rcode {value}") from None


def normalize_time(value: object, field: str) -> int:
    """UTC epoch seconds as an integer (fractions are truncated)."""
    if type(value) is int and 0 <= value <= MAX_TIME:  # the common case, without the checks below
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTime(f"{field} must be epoch seconds")
    if math.isnan(value) or not 0 <= value <= MAX_TIME:
        raise InvalidTime(f"{field} {value!r} is out of range")
    return int(value)


def normalize_label(value: str | None, field: str) -> str | None:
    """Sensor ids and source names: short printable tokens."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _valid_label(value):
        raise InvalidValue(f"{field} must match {_LABEL.pattern}")
    return value


@lru_cache(maxsize=1024)
def _valid_label(value: str) -> bool:
    return _LABEL.fullmatch(value) is not None


def normalize_sample(sample: SampleRef | None) -> SampleRef | None:
    """Sample hashes are lowercase hex SHA-256."""
    if sample is None:
        return None
    sha = sample.sha256.lower() if isinstance(sample.sha256, str) else ""
    if not _SHA256.fullmatch(sha):
        raise InvalidValue("sample.sha256 must be 64 hex digits")
    task = sample.task_id
    if task is not None and (not isinstance(task, str) or len(task) > 64 or not task.isprintable()):
        # printable: no NUL, control characters or lone surrogates, which no store can keep
        raise InvalidValue("sample.task_id must be printable text of at most 64 characters")
    return SampleRef(sha, task)


def normalize_observation(obs: Observation) -> Observation:
    """Return ``obs`` with every field canonical; raise ``InvalidObservation``.

    Fast path: when the type, times, counts, rcode, labels and evidence are
    canonical already (what parsers emit), only the name and rdata go through
    their caches, and an observation whose name and rdata were canonical too
    (lowercase LDH names, dotted-quad addresses...) is returned as it is,
    without being rebuilt. The result, and the error raised for invalid input,
    equal those of the full path (a property test checks it).
    """
    rrtype = obs.rrtype
    code = None
    if type(rrtype) is str:
        code = CANONICAL_TYPES.get(rrtype)
        if code is None:
            code = _canonical_type_code(rrtype)
    if code is None or not scalars_canonical(obs):
        return _normalize_observation_full(obs)
    # The checks of the full path before these fields all passed: the same errors come first.
    name = normalize_name(obs.rrname)
    rdata = normalize_rrset(code, obs.rdata) if obs.rdata else ()  # () is canonical: negatives, bare queries
    bailiwick = obs.bailiwick
    if bailiwick is not None:
        if not bailiwick:
            return _normalize_observation_full(obs)
        bailiwick = normalize_name(bailiwick)
    if (
        type(obs.rrname) is str
        and name == obs.rrname
        and bailiwick == obs.bailiwick
        and type(obs.bailiwick) in (str, type(None))
        and _same_strings(rdata, obs.rdata)
    ):
        return _storable(obs)
    return _storable(msgspec.structs.replace(obs, rrname=name, rdata=rdata, bailiwick=bailiwick))  # rest canonical


def _storable(obs: Observation) -> Observation:
    """``obs`` if its RRset is no longer than any DNS message can carry (``MAX_RRSET_CHARS``); raise
    ``InvalidRdata`` otherwise (one RR's rdata is bounded by ``normalize_rdata``)."""
    rdata = obs.rdata
    if len(rdata) > 1:
        size = sum(map(len, rdata)) + len(rdata) - 1
        if size > MAX_RRSET_CHARS:
            raise InvalidRdata(
                f"the RRset is too long: its rdata joined hold {size} characters, more than a DNS message can "
                f"carry ({MAX_RRSET_CHARS})"
            )
    return obs


_CANONICAL_LABELS: set[str] = set()  # sensor ids and sources found valid (a few per process), remembered


def label_is_canonical(label: str | None) -> bool:
    """Whether ``normalize_label`` keeps ``label`` as it is (None, or a valid plain ``str``)."""
    if label is None or (type(label) is str and label in _CANONICAL_LABELS):
        return True
    valid = type(label) is str and label != "" and _valid_label(label)
    if valid and len(_CANONICAL_LABELS) < 4096:
        _CANONICAL_LABELS.add(label)
    return valid


CANONICAL_TYPES: dict[str, int] = {}  # type mnemonics that are canonical -> code, filled as they are seen
CANONICAL_RCODES = frozenset(
    text
    for text in [*(dns.rcode.to_text(r) for r in dns.rcode.Rcode), NODATA]
    if text != "NOERROR" and normalize_rcode(text) == text
)


def scalars_canonical(obs: Observation) -> bool:
    """Whether the full path would keep every field of ``obs`` but the names and rdata as they are."""
    first, last, count, ttl, rcode = obs.time_first, obs.time_last, obs.count, obs.ttl, obs.rcode
    sensor, source, sample = obs.sensor_id, obs.source, obs.sample
    return (
        type(first) is int
        and type(last) is int
        and 0 <= first <= last <= MAX_TIME
        and type(count) is int
        and 1 <= count <= MAX_COUNT
        and (ttl is None or (type(ttl) is int and 0 <= ttl < 2**31))
        and (rcode is None or (type(rcode) is str and rcode in CANONICAL_RCODES))
        and label_is_canonical(sensor)
        and label_is_canonical(source)
        and (sample is None or _sample_canonical(sample))
        and type(obs.evidence) is Evidence
        and type(obs.rdata) is tuple
        and obs.zone_time_first is None  # zone-file sightings (imports only) take the full path
        and obs.zone_time_last is None
        and obs.zone_only is False
    )


def _sample_canonical(sample: SampleRef) -> bool:
    """Whether ``normalize_sample`` would return an equal ``SampleRef`` of plain strings."""
    sha, task = sample.sha256, sample.task_id
    return (
        type(sample) is SampleRef
        and type(sha) is str
        and (task is None or type(task) is str)
        and _sample_fields_canonical(sha, task)
    )


@lru_cache(maxsize=1024)
def _sample_fields_canonical(sha: str, task: str | None) -> bool:
    try:
        return normalize_sample(SampleRef(sha, task)) == SampleRef(sha, task)
    except InvalidObservation:
        return False


def _same_strings(canonical: tuple[str, ...], given: tuple[str, ...]) -> bool:
    """``given`` equals ``canonical`` and holds plain ``str`` (not a subclass that merely compares equal)."""
    if canonical != given:
        return False
    if len(given) == 1:  # the common case, without a generator
        return type(given[0]) is str
    return all(type(item) is str for item in given)


def canonical_type_code(rrtype: object) -> int | None:
    """The code of ``rrtype`` if it is a canonical type mnemonic (a plain ``str``), else None."""
    if type(rrtype) is not str:
        return None
    code = CANONICAL_TYPES.get(rrtype)
    return code if code is not None else _canonical_type_code(rrtype)


def _canonical_type_code(rrtype: str) -> int | None:
    try:
        code = rrtypes.rrtype_code(rrtype)
    except InvalidObservation:
        return None
    if rrtypes.rrtype_text(code) != rrtype:
        return None
    CANONICAL_TYPES[rrtype] = code
    return code


def _normalize_observation_full(obs: Observation) -> Observation:
    """Every field checked and rebuilt in its canonical form."""
    code = rrtypes.rrtype_code(obs.rrtype)
    first = normalize_time(obs.time_first, "time_first")
    last = normalize_time(obs.time_last, "time_last")
    if first > last:
        raise InvalidTime("time_first is after time_last")
    if isinstance(obs.count, bool) or not isinstance(obs.count, int) or not 1 <= obs.count <= MAX_COUNT:
        raise InvalidValue(f"count must be an integer from 1 to {MAX_COUNT} (2^40)")
    if obs.ttl is not None and (isinstance(obs.ttl, bool) or not isinstance(obs.ttl, int) or not 0 <= obs.ttl < 2**31):
        raise InvalidValue("ttl must be an integer in 0..2^31-1")
    zone_first, zone_last = _zone_window(obs, first, last)
    return _storable(Observation(
        rrname=normalize_name(obs.rrname),
        rrtype=rrtypes.rrtype_text(code),
        rdata=normalize_rrset(code, obs.rdata),
        time_first=first,
        time_last=last,
        zone_time_first=zone_first,
        zone_time_last=zone_last,
        zone_only=obs.zone_only,
        count=obs.count,
        ttl=obs.ttl,
        rcode=_rcode_for(obs),
        bailiwick=normalize_name(obs.bailiwick) if obs.bailiwick else None,
        sensor_id=normalize_label(obs.sensor_id, "sensor_id"),
        source=normalize_label(obs.source, "source"),
        evidence=obs.evidence if type(obs.evidence) is Evidence else Evidence(obs.evidence),
        sample=normalize_sample(obs.sample),
    ))


def _zone_window(obs: Observation, first: int, last: int) -> tuple[int | None, int | None]:
    """The checked zone-file window of ``obs`` (``core/windows.py``), or ``(None, None)``."""
    if type(obs.zone_only) is not bool:
        raise InvalidValue("zone_only must be true or false")
    if obs.zone_time_first is None and obs.zone_time_last is None:
        if obs.zone_only:
            raise InvalidTime("a zone-only observation needs zone_time_first and zone_time_last")
        return None, None
    if obs.zone_time_first is None or obs.zone_time_last is None:
        raise InvalidTime("zone_time_first and zone_time_last go together")
    zone_first = normalize_time(obs.zone_time_first, "zone_time_first")
    zone_last = normalize_time(obs.zone_time_last, "zone_time_last")
    if zone_first > zone_last:
        raise InvalidTime("zone_time_first is after zone_time_last")
    if obs.zone_only and (first, last) != (zone_first, zone_last):
        raise InvalidTime("a zone-only observation's time_first/time_last are its zone times")
    if not obs.rdata:
        raise InvalidValue("zone times need rdata: zone files hold no negative answers or bare queries")
    return zone_first, zone_last


def normalize_rrset(code: int, rdata: tuple[str, ...]) -> tuple[str, ...]:
    if 0 < len(rdata) <= 8:  # most RRsets are small and recur: cache them whole
        try:
            return _normalize_small_rrset(code, rdata)
        except TypeError:  # an unhashable item: let the checks below name the problem
            pass
    return _normalize_rrset_uncached(code, rdata)


@lru_cache(maxsize=65536)
def _normalize_small_rrset(code: int, rdata: tuple[str, ...]) -> tuple[str, ...]:
    return _normalize_rrset_uncached(code, rdata)


def _normalize_rrset_uncached(code: int, rdata: tuple[str, ...]) -> tuple[str, ...]:
    if len(rdata) > MAX_RRSET:
        raise InvalidValue(f"an RRset may hold at most {MAX_RRSET} records")
    if len(rdata) == 1:
        return (normalize_rdata(code, rdata[0]),)
    return tuple(sorted({normalize_rdata(code, r) for r in rdata}))


def _rcode_for(obs: Observation) -> str | None:
    rcode = normalize_rcode(obs.rcode)
    if obs.rdata:
        return None if rcode in (None, "NOERROR") else rcode
    return NODATA if rcode == "NOERROR" else rcode


def observation_key(obs: Observation) -> tuple[str, str, tuple[str, ...], str | None]:
    """The identity of a normalized observation's RRset; equal inputs give equal keys."""
    return (obs.rrname, obs.rrtype, obs.rdata, obs.rcode)


__all__ = [
    "InvalidObservation",
    "normalize_observation",
    "normalize_rcode",
    "normalize_time",
    "observation_key",
]
