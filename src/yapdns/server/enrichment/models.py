"""How far each dataset has enriched the store's addresses, and what that dataset is."""

from __future__ import annotations

from django.db import models


class EnrichmentCursor(models.Model):
    """One dataset identity (``source@date``): its place in the store's address feed, and what it is."""

    dataset = models.CharField(max_length=255, primary_key=True)
    source = models.CharField(max_length=200)
    data_date = models.BigIntegerField(help_text="The data's build date, epoch seconds.")
    origin = models.CharField(max_length=500)
    licence = models.CharField(max_length=500)
    cursor = models.CharField(max_length=40, blank=True, default="")
    addresses = models.BigIntegerField(default=0, help_text="Addresses looked up so far.")
    kept = models.BigIntegerField(default=0, help_text="Context rows kept so far (new values).")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.dataset


class UpstreamFetch(models.Model):
    """One question asked of an upstream pDNS service: the cache of its answer and the quota ledger."""

    connector = models.CharField(max_length=32)
    query = models.CharField(max_length=300)
    asked_at = models.DateTimeField(db_index=True)
    asked_by = models.CharField(max_length=150, blank=True, default="")
    ok = models.BooleanField(default=False)
    accepted = models.IntegerField(default=0)
    unreadable = models.IntegerField(default=0)
    error = models.CharField(max_length=500, blank=True, default="")
    upstream_quota = models.JSONField(null=True, blank=True)
    requests = models.IntegerField(default=1)  # requests sent (a paged answer sends one per page): the quota ledger

    class Meta:
        indexes = [models.Index(fields=["connector", "query", "asked_at"])]

    def __str__(self) -> str:
        return f"{self.connector}:{self.query}"
