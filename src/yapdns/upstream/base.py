"""What a connector is and what it returns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import msgspec

from yapdns.core.errors import YapdnsError
from yapdns.core.model import Evidence, Observation


class UpstreamError(YapdnsError):
    """The upstream service failed or refused the request; the message says which and why."""


class UpstreamAnswer(msgspec.Struct, frozen=True):
    """Observations from one question, rows that could not be read, the quota the service reported, the requests
    sent (pages), and why reading stopped before the last page (empty: it did not)."""

    observations: list[Observation]
    unreadable: int = 0
    quota: dict[str, Any] | None = None
    requests: int = 1
    stopped: str = ""


class UpstreamConnector(Protocol):
    """One upstream pDNS service."""

    name: str

    def fetch(self, query: str, *, is_ip: bool, limit: int, requests: int = 1) -> UpstreamAnswer:
        """What the service knows about a name (``is_ip`` false) or an address, up to ``limit`` rows, in at most
        ``requests`` requests (a service that pages answers reads further pages while both allow)."""
        ...


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def imported(
    source: str,
    rrname: str,
    rrtype: str,
    rdata: Iterable[str],
    first: int,
    last: int,
    count: int = 1,
    **extra: Any,
) -> Observation:
    """An ``imported`` observation labelled with the connector's name."""
    return Observation(rrname=rrname, rrtype=rrtype, rdata=tuple(rdata), time_first=first, time_last=last,
                       count=max(1, count), source=source, evidence=Evidence.IMPORTED, **extra)
