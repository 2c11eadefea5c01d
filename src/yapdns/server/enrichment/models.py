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
