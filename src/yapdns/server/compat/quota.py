"""Enforcing and reporting per-token query quotas (``models.QueryQuota``).

``QuotaGate.for_token`` loads a token's limits once per request.
``consume()`` counts one query against every window at once, atomically: a
conditional ``UPDATE ... SET used = used + 1 WHERE used < limit`` per window
inside one transaction, so concurrent workers never overshoot. ``rate()``
is the ``rate`` object of DNSDB's ``/rate_limit`` (integers, ``"n/a"`` or
``"unlimited"``, the only forms dnsdbq accepts) and ``headers()`` the
optional ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F

from yapdns.server.compat.models import QueryCounter, QueryQuota

DAY = 86400
RateValue = int | str


class QuotaExpired(Exception):
    """The token's block quota has expired."""


class QuotaExhausted(Exception):
    """The token has used up a quota window."""


@dataclass(frozen=True)
class _Window:
    name: str
    start: int
    limit: int
    reset: int | None


class QuotaGate:
    """One token's quota for the duration of a request."""

    def __init__(self, token_id: int | None, quota: QueryQuota | None) -> None:
        self.token_id = token_id
        self.quota = quota

    @classmethod
    def for_token(cls, token_id: int | None) -> QuotaGate:
        quota = QueryQuota.objects.filter(token_id=token_id).first() if token_id is not None else None
        return cls(token_id, quota)

    @property
    def results_max(self) -> int:
        own = self.quota.results_max if self.quota else None
        return min(own, settings.RESULTS_MAX) if own else int(settings.RESULTS_MAX)

    @property
    def offset_max(self) -> int:
        own = self.quota.offset_max if self.quota else None
        return min(own, settings.OFFSET_MAX) if own is not None else int(settings.OFFSET_MAX)

    def expired(self, now: float | None = None) -> bool:
        q = self.quota
        return bool(q and q.expires_at and q.expires_at.timestamp() <= (now or time.time()))

    def _windows(self, now: int) -> list[_Window]:
        q = self.quota
        if q is None:
            return []
        out = []
        if q.daily_limit is not None:
            day = now - now % DAY
            out.append(_Window("day", day, q.daily_limit, day + DAY))
        if q.block_limit is not None:
            out.append(_Window("block", 0, q.block_limit, None))
        if q.burst_size is not None and q.burst_window:
            start = now - now % q.burst_window
            out.append(_Window("burst", start, q.burst_size, start + q.burst_window))
        return out

    def consume(self, now: int | None = None) -> None:
        """Count one query; raise ``QuotaExpired`` or ``QuotaExhausted`` (and count nothing) if refused."""
        if self.expired(now):
            raise QuotaExpired()
        windows = self._windows(int(now or time.time()))
        if not windows:
            return
        with transaction.atomic():
            for w in windows:
                QueryCounter.objects.get_or_create(token_id=self.token_id, window=w.name, start=w.start)
                taken = QueryCounter.objects.filter(
                    token_id=self.token_id, window=w.name, start=w.start, used__lt=w.limit
                ).update(used=F("used") + 1)
                if not taken:
                    raise QuotaExhausted(w.name)
            QueryCounter.objects.filter(token_id=self.token_id, window__in=("day", "burst")).exclude(
                start__in=[w.start for w in windows]
            ).delete()

    def _used(self, w: _Window) -> int:
        row = QueryCounter.objects.filter(token_id=self.token_id, window=w.name, start=w.start).first()
        return row.used if row else 0

    def rate(self, now: int | None = None) -> dict[str, RateValue]:
        """DNSDB's ``rate`` object for this token."""
        windows = {w.name: w for w in self._windows(int(now or time.time()))}
        main = windows.get("day") or windows.get("block")
        rate: dict[str, RateValue] = {
            "reset": main.reset if main and main.reset is not None else "n/a",
            "limit": main.limit if main else "unlimited",
            "remaining": max(main.limit - self._used(main), 0) if main else "n/a",
            "results_max": self.results_max,
            "offset_max": self.offset_max,
        }
        if self.quota and self.quota.expires_at:
            rate["expires"] = int(self.quota.expires_at.timestamp())
        if burst := windows.get("burst"):
            rate["burst_size"] = burst.limit
            rate["burst_window"] = self.quota.burst_window if self.quota and self.quota.burst_window else 0
        return rate

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-*`` headers (go-dnsdb reads them when present)."""
        rate = self.rate()
        return {
            "X-RateLimit-Limit": str(rate["limit"]),
            "X-RateLimit-Remaining": str(rate["remaining"]),
            "X-RateLimit-Reset": str(rate["reset"]),
            "X-RateLimit-Expires": str(rate.get("expires", "n/a")),
        }
