"""What one request may cost and what one token may spend: the server's one limiter.

Every API surface refuses excess the same way, through this module:

* **Bounds on one request** (``RequestLimits``, from the ``YAPDNS_*`` settings
  in ``config.py``): the ingest body (compressed and decompressed bytes,
  records or lines per batch), the queries and the rows of one bulk request,
  and a time budget (``Budget``) that decoding and bulk lookups check as they
  go. A request past a bound raises ``LimitExceeded`` (413: send less per
  request) before anything is applied.
* **Quotas of one token over time** (``TokenQuota``): queries per UTC day,
  in total (a block, optionally with an expiry) and per burst window. A
  query is counted against every window at once, atomically: a conditional
  ``UPDATE ... SET used = used + 1 WHERE used < limit`` per window inside one
  transaction, so concurrent workers never overshoot. Refusals are
  ``QuotaExpired`` (401) and ``QuotaExhausted`` (429, with the seconds until
  the window resets). Every query surface charges it: DNSDB and CIRCL (one
  per lookup), and the own API (``security.api_view``: one per query
  request, one per query of a bulk request), so DNSDB's ``rate_limit``
  reports the same counters whatever API a token used.
* **Quotas of one user's dashboard session** (``UserSessionQuota``): the
  same windows (day, burst) per user, from the user's ``SessionQuota`` or
  else the ``YAPDNS_SESSION_QUOTA_*`` settings; charged by the dashboard's
  query pages and by the own API when called with a session.

A query whose ``limit`` is 0 or above ``YAPDNS_RESULTS_MAX`` (or the token's own ``results_max``) is clamped
to it; such an answer carries ``X-Yapdns-Results-Max`` up front (``mark_results_max``), so a client never
takes an answer cut at the cap for the whole one. Formats that can also say so at the end do (the JSON
page's ``limited``, SAF's ``limited`` terminator, CIRCL's ``x-dribble-errors``).

``LimitExceeded`` carries the HTTP status, a message that says what to do,
and ``retry_after`` (seconds) when waiting helps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http.response import HttpResponseBase

from yapdns.server.compat.models import QueryCounter, QueryQuota, SessionCounter, SessionQuota
from yapdns.server.monitoring.metrics import QUOTA_REFUSALS

DAY = 86400


class LimitExceeded(Exception):
    """A request or a token went past a limit; ``status`` and the message tell the client what to do."""

    status = 413

    def __init__(self, message: str, *, status: int | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.retry_after = retry_after


class BudgetExhausted(LimitExceeded):
    """The request used up its time budget."""


class QuotaExpired(LimitExceeded):
    """The token's block quota has expired."""

    status = 401


class QuotaExhausted(LimitExceeded):
    """The token has used up a quota window (``window``: day, block or burst)."""

    status = 429

    def __init__(self, window: str, retry_after: int | None, holder: str = "token") -> None:
        super().__init__(f"quota exhausted ({window})", retry_after=retry_after)
        self.window = window
        self.holder = holder  # token or session


@dataclass(frozen=True)
class RequestLimits:
    """The bounds on one request (see docs/configuration.md for each setting)."""

    ingest_body_bytes: int
    ingest_decompressed_bytes: int
    ingest_records: int
    bulk_queries: int
    bulk_rows: int
    time_budget: float

    @classmethod
    def from_settings(cls) -> RequestLimits:
        return cls(
            ingest_body_bytes=int(settings.MAX_INGEST_BYTES),
            ingest_decompressed_bytes=int(settings.MAX_INGEST_DECOMPRESSED_BYTES),
            ingest_records=int(settings.MAX_INGEST_RECORDS),
            bulk_queries=int(settings.BULK_MAX_QUERIES),
            bulk_rows=int(settings.BULK_MAX_ROWS),
            time_budget=float(settings.REQUEST_TIME_BUDGET),
        )

    def budget(self) -> Budget:
        """A fresh time budget for one request."""
        return Budget(self.time_budget)


class Budget:
    """A wall-clock budget for one request, checked between units of work (records, queries)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._deadline = time.monotonic() + seconds

    @property
    def spent(self) -> bool:
        return time.monotonic() >= self._deadline

    def check(self) -> None:
        """Raise ``BudgetExhausted`` once the budget is spent."""
        if self.spent:
            raise BudgetExhausted(
                f"the request took more than its time budget of {self.seconds:g} s (YAPDNS_REQUEST_TIME_BUDGET); "
                "send less per request"
            )


@dataclass(frozen=True)
class QuotaWindow:
    """One counting window of a token's quota: ``day`` (UTC), ``block`` (ever) or ``burst``."""

    name: str
    start: int
    limit: int
    reset: int | None


@dataclass(frozen=True)
class SessionLimits:
    """A user's limits on queries made with a session: their ``SessionQuota``, else the settings' defaults."""

    daily_limit: int | None = None
    burst_size: int | None = None
    burst_window: int | None = None
    block_limit: None = None
    expires_at: None = None
    results_max: None = None
    offset_max: None = None

    @classmethod
    def for_user(cls, user_id: int) -> SessionLimits:
        own = SessionQuota.objects.filter(user_id=user_id).first()
        if own is not None:
            return cls(own.daily_limit, own.burst_size, own.burst_window)
        daily = int(settings.SESSION_QUOTA_DAILY)
        burst = settings.SESSION_QUOTA_BURST
        return cls(daily or None, *(burst or (None, None)))


class TokenQuota:
    """One token's quota for the duration of a request (no quota: unlimited)."""

    counter: type[QueryCounter] | type[SessionCounter] = QueryCounter
    holder = "token"  # what the refusal names: "the token's day limit"

    def __init__(self, token_id: int | None, quota: QueryQuota | SessionLimits | None) -> None:
        self.token_id = token_id
        self.quota = quota
        self.owner: dict[str, Any] = {"token_id": token_id}

    @classmethod
    def for_token(cls, token_id: int | None) -> TokenQuota:
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

    def windows(self, now: int) -> list[QuotaWindow]:
        """The windows that count at ``now``."""
        q = self.quota
        if q is None:
            return []
        out = []
        if q.daily_limit is not None:
            day = now - now % DAY
            out.append(QuotaWindow("day", day, q.daily_limit, day + DAY))
        if q.block_limit is not None:
            out.append(QuotaWindow("block", 0, q.block_limit, None))
        if q.burst_size is not None and q.burst_window:
            start = now - now % q.burst_window
            out.append(QuotaWindow("burst", start, q.burst_size, start + q.burst_window))
        return out

    def consume(self, now: int | None = None, queries: int = 1) -> None:
        """Count ``queries`` queries; raise ``QuotaExpired`` or ``QuotaExhausted`` (and count nothing) if refused."""
        if self.expired(now):
            QUOTA_REFUSALS.labels("expired").inc()
            raise QuotaExpired("quota expired")
        current = int(now or time.time())
        windows = self.windows(current)
        if not windows:
            return
        counters = self.counter.objects
        with transaction.atomic():
            for w in windows:
                counters.get_or_create(**self.owner, window=w.name, start=w.start)
                taken = counters.filter(**self.owner, window=w.name, start=w.start,
                                        used__lte=w.limit - queries).update(used=F("used") + queries)
                if not taken:
                    QUOTA_REFUSALS.labels(w.name).inc()
                    raise QuotaExhausted(w.name, None if w.reset is None else max(w.reset - current, 1), self.holder)
            counters.filter(**self.owner, window__in=("day", "burst")).exclude(
                start__in=[w.start for w in windows]
            ).delete()

    def used(self, window: QuotaWindow) -> int:
        """Queries counted in ``window`` so far."""
        row = self.counter.objects.filter(**self.owner, window=window.name, start=window.start).first()
        return row.used if row else 0


class UserSessionQuota(TokenQuota):
    """One user's quota on queries made with a dashboard session (pages and the own API): per user, by day
    and by burst, counted like a token's."""

    counter = SessionCounter
    holder = "session"

    def __init__(self, user_id: int) -> None:
        super().__init__(None, SessionLimits.for_user(user_id))
        self.owner = {"user_id": user_id}


RESULTS_MAX_HEADER = "X-Yapdns-Results-Max"


def clamped(requested: int, cap: int) -> bool:
    """Whether a requested ``limit`` (0: as many as allowed) is cut down to ``cap``."""
    return requested == 0 or requested > cap


def mark_results_max(response: HttpResponseBase, cap: int) -> HttpResponseBase:
    """Say up front that the answer stops at ``cap`` rows: if it holds that many, more may match."""
    response[RESULTS_MAX_HEADER] = str(cap)
    return response
