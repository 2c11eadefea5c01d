"""Per-token query quotas for the compatible APIs, and the counters that enforce them.

A query token without a ``QueryQuota`` is unlimited (the default). A quota
can cap queries per UTC day (DNSDB's time-based quota), queries in total
(a "block" quota, optionally with an expiry date), and bursts (at most
``burst_size`` queries per ``burst_window`` seconds). It can also lower the
server-wide ``results_max`` and ``offset_max`` for that token.

Queries made with a dashboard session (pages and the own API alike) count
per user instead: ``SessionQuota`` is one user's own limits, else the
``YAPDNS_SESSION_QUOTA_*`` settings apply; ``SessionCounter`` counts them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from yapdns.server.accounts.models import ApiToken


class QueryQuota(models.Model):
    """Limits for one query token (``None`` = no limit of that kind)."""

    token = models.OneToOneField(ApiToken, on_delete=models.CASCADE, related_name="quota")
    daily_limit = models.PositiveIntegerField(null=True, blank=True)
    block_limit = models.PositiveIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    burst_size = models.PositiveIntegerField(null=True, blank=True)
    burst_window = models.PositiveIntegerField(null=True, blank=True)
    results_max = models.PositiveIntegerField(null=True, blank=True)
    offset_max = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"quota of token {self.token_id}"


class QueryCounter(models.Model):
    """Queries a token made in one window: ``day`` (UTC), ``block`` (ever) or ``burst``."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="query_counters")
    window = models.CharField(max_length=8)
    start = models.BigIntegerField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "window", "start"], name="compat_counter_unique")]

    def __str__(self) -> str:
        return f"{self.window}@{self.start}: {self.used}"


class SessionQuota(models.Model):
    """One user's own limits on queries made with a session (``None`` = no limit of that kind)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_quota")
    daily_limit = models.PositiveIntegerField(null=True, blank=True)
    burst_size = models.PositiveIntegerField(null=True, blank=True)
    burst_window = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"session quota of user {self.user_id}"


class SessionCounter(models.Model):
    """Queries a user made with a session in one window: ``day`` (UTC) or ``burst``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_counters")
    window = models.CharField(max_length=8)
    start = models.BigIntegerField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "window", "start"], name="compat_session_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.window}@{self.start}: {self.used}"
