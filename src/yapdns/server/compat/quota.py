"""DNSDB's view of a token's quota: the ``rate`` object of ``/rate_limit`` and the ``X-RateLimit-*`` headers.

Counting and enforcing live in ``server/limits.py`` (``TokenQuota``); this
module only renders them as DNSDB clients expect: integers, ``"n/a"`` or
``"unlimited"`` (the only forms dnsdbq accepts).
"""

from __future__ import annotations

import time

from yapdns.server.limits import TokenQuota

RateValue = int | str


def rate(quota: TokenQuota, now: int | None = None) -> dict[str, RateValue]:
    """DNSDB's ``rate`` object for this token: the daily (or else the block) window as limit/remaining/reset."""
    windows = {w.name: w for w in quota.windows(int(now or time.time()))}
    main = windows.get("day") or windows.get("block")
    out: dict[str, RateValue] = {
        "reset": main.reset if main and main.reset is not None else "n/a",
        "limit": main.limit if main else "unlimited",
        "remaining": max(main.limit - quota.used(main), 0) if main else "n/a",
        "results_max": quota.results_max,
        "offset_max": quota.offset_max,
    }
    q = quota.quota
    if q and q.expires_at:
        out["expires"] = int(q.expires_at.timestamp())
    if burst := windows.get("burst"):
        out["burst_size"] = burst.limit
        out["burst_window"] = q.burst_window if q and q.burst_window else 0
    return out


def headers(quota: TokenQuota) -> dict[str, str]:
    """``X-RateLimit-*`` headers (go-dnsdb reads them when present)."""
    current = rate(quota)
    return {
        "X-RateLimit-Limit": str(current["limit"]),
        "X-RateLimit-Remaining": str(current["remaining"]),
        "X-RateLimit-Reset": str(current["reset"]),
        "X-RateLimit-Expires": str(current.get("expires", "n/a")),
    }
