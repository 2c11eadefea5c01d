"""DNSDB query-string parameters: booleans in every spelling, integers, limits, offsets and fences.

Unknown parameters are ignored (dnsdb2 forwards stray keyword arguments).
A value that cannot be read is a 400 with a message naming the parameter;
an offset beyond the token's ``offset_max`` is a 416.
"""

from __future__ import annotations

from collections.abc import Mapping

from yapdns.core.errors import InvalidQuery
from yapdns.storage.query import TimeFence, parse_fences, parse_integer

DEFAULT_LIMIT = 10_000
_TRUE = frozenset({"true", "t", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "f", "0", "no", "n", "off"})


class OffsetTooLarge(InvalidQuery):
    """The offset is larger than this key may use."""


def boolean(params: Mapping[str, str], name: str, default: bool) -> bool:
    """``True/False``, ``t/f``, ``1/0``, ``yes/no`` (any case); empty or absent means ``default``."""
    value = params.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidQuery(f"{name} must be true or false, got {value[:20]!r}")


def integer(params: Mapping[str, str], name: str, minimum: int | None = None) -> int | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    return parse_integer(name, value, minimum)


def limit(params: Mapping[str, str], results_max: int) -> int:
    """``limit``: default 10000; 0 means ``results_max``; larger values are clamped to it."""
    value = integer(params, "limit")
    if value is None:
        value = DEFAULT_LIMIT
    if value < 0:
        raise InvalidQuery("limit must not be negative")
    return results_max if value == 0 else min(value, results_max)


def offset(params: Mapping[str, str], offset_max: int) -> int:
    value = integer(params, "offset") or 0
    if value < 0:
        raise InvalidQuery("offset must not be negative")
    if value > offset_max:
        raise OffsetTooLarge(f"Error: offset {value} is larger than offset_max {offset_max}")
    return value


def fence(params: Mapping[str, str]) -> TimeFence:
    """The four fences (inclusive); negative values are relative to now."""
    return parse_fences(params)


def max_count(params: Mapping[str, str]) -> int | None:
    value = integer(params, "max_count")
    if value is not None and value < 1:
        raise InvalidQuery("max_count must be at least 1")
    return value
