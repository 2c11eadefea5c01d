"""The stored half of a bearer token (``server/tokens.py``): display prefix, SHA-256 digest and life cycle.

Sensor ingest tokens and users' query tokens are both this, bound to different owners.
"""

from __future__ import annotations

from django.db import models


class HashedToken(models.Model):
    """A token kept only as its digest; revoking sets ``revoked_at``, rows are never deleted."""

    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ("-created_at",)

    @property
    def active(self) -> bool:
        return self.revoked_at is None
