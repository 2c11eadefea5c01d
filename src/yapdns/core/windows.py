"""Traffic and zone-file time windows: what a sighting's times mean, how they combine, how they are shown.

A source says when it saw an RRset in one or both of two ways:

* in DNS traffic (sensors, server logs, other pDNS services' sensor data):
  ``time_first``/``time_last``;
* in zone files (DNSDB and COF exports of zone data): ``zone_time_first``/
  ``zone_time_last``.

Observations, records, RRsets and provenance rows carry both the same way
(``Windows``): ``time_first``/``time_last`` is the traffic window when there
was traffic and otherwise the zone window, so every record has a window to
fence, sort and page on; ``zone_time_first``/``zone_time_last`` is the zone
window, or None; ``zone_only`` says the record was never seen in traffic (its
``time_first``/``time_last`` then equal its zone times).

``combine`` folds two of them: traffic windows hull with traffic windows,
zone windows with zone windows, and the first traffic sighting of a
zone-only record replaces its window. It is commutative and associative, so
the agent, a write group, a store row and a per-provenance row all reach one
result whatever the order and grouping; the stores' SQL upserts implement
the same rule. ``time_fields`` is the one place that turns windows into the
output keys every API shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from yapdns.core.errors import MissingField


class HasWindows(Protocol):
    """Anything that carries the two windows: observations, records, RRsets, provenance, Flex rows."""

    @property
    def time_first(self) -> int: ...
    @property
    def time_last(self) -> int: ...
    @property
    def zone_time_first(self) -> int | None: ...
    @property
    def zone_time_last(self) -> int | None: ...
    @property
    def zone_only(self) -> bool: ...


class Windows(NamedTuple):
    """The traffic window (or, when ``zone_only``, the zone window), and the zone window if any."""

    time_first: int
    time_last: int
    zone_time_first: int | None = None
    zone_time_last: int | None = None
    zone_only: bool = False

    @classmethod
    def of(cls, item: HasWindows) -> Windows:
        return cls(item.time_first, item.time_last, item.zone_time_first, item.zone_time_last, item.zone_only)

    @property
    def traffic(self) -> tuple[int, int] | None:
        """When it was seen in traffic; None for a record seen only in zone files."""
        return None if self.zone_only else (self.time_first, self.time_last)

    @property
    def zone(self) -> tuple[int, int] | None:
        """When it was seen in zone files; None for a record never seen there."""
        if self.zone_time_first is None or self.zone_time_last is None:
            return None
        return (self.zone_time_first, self.zone_time_last)


def combine(a: Windows, b: Windows) -> Windows:
    """The windows of two sightings of one record together (see module doc)."""
    if a.zone_only == b.zone_only:
        first, last = min(a.time_first, b.time_first), max(a.time_last, b.time_last)
    elif a.zone_only:  # b brings the first traffic sighting: its window replaces a's zone window
        first, last = b.time_first, b.time_last
    else:
        first, last = a.time_first, a.time_last
    zone_first = _least(a.zone_time_first, b.zone_time_first)
    zone_last = _greatest(a.zone_time_last, b.zone_time_last)
    return Windows(first, last, zone_first, zone_last, a.zone_only and b.zone_only)


def _least(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def sighting_fields(
    first: Any = None, last: Any = None, zone_first: Any = None, zone_last: Any = None
) -> dict[str, Any]:
    """Observation time fields from a source's traffic and/or zone-file times (COF and DNSDB field names).

    A pair with one end missing takes the other end for it; at least one end of
    one pair is needed (``MissingField``). Values are checked by normalization.
    """
    if first is None and last is None and zone_first is None and zone_last is None:
        raise MissingField("time_first/time_last or zone_time_first/zone_time_last are required")
    zone: dict[str, Any] = {}
    if zone_first is not None or zone_last is not None:
        zone_first = zone_last if zone_first is None else zone_first
        zone_last = zone_first if zone_last is None else zone_last
        zone = {"zone_time_first": zone_first, "zone_time_last": zone_last}
    if first is None and last is None:
        return {"time_first": zone_first, "time_last": zone_last, "zone_only": True, **zone}
    first = last if first is None else first
    last = first if last is None else last
    return {"time_first": first, "time_last": last, **zone}


def time_fields(
    item: HasWindows, show: Callable[[int], Any] = int, *, always_traffic: bool = False
) -> dict[str, Any]:
    """The time keys of one output object: ``time_first``/``time_last`` when seen in traffic,
    ``zone_time_first``/``zone_time_last`` when seen in zone files, both pairs when both.

    ``always_traffic`` keeps ``time_first``/``time_last`` on zone-only records too (then equal to the zone
    times): for CIRCL, whose client pypdns refuses a record without them.
    """
    out: dict[str, Any] = {}
    if always_traffic or not item.zone_only:
        out["time_first"], out["time_last"] = show(item.time_first), show(item.time_last)
    if item.zone_time_first is not None and item.zone_time_last is not None:
        out["zone_time_first"], out["zone_time_last"] = show(item.zone_time_first), show(item.zone_time_last)
    return out
