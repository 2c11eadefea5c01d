"""Summaries the dashboard keeps between requests, in the application database.

A ``SummarySnapshot`` holds the result of an expensive store scan (the top
names) with the time it was computed, so that every gunicorn worker shows the
same figures and at most one of them recomputes at a time (see
``summaries.py``).
"""

from __future__ import annotations

from django.db import models


class SummarySnapshot(models.Model):
    """One named summary: its JSON payload and when it was computed."""

    name = models.CharField(max_length=64, unique=True)
    payload = models.JSONField(default=list)
    computed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0.0, help_text="How long the last computation took.")

    def __str__(self) -> str:
        return self.name
