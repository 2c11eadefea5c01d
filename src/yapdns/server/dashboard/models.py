"""What the dashboard keeps in the application database: kept summaries, and the team's notes and tags.

A ``SummarySnapshot`` holds the result of an expensive store scan (the top
names) with the time it was computed, so that every gunicorn worker shows the
same figures and at most one of them recomputes at a time (see
``summaries.py``).

``Tag`` and ``Note`` annotate a name or an address for the whole team; every change to them is also written to
``AnnotationEvent``, the audit log (``tagging.py`` is the only writer).
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


SUBJECT_KINDS = [("name", "name"), ("ip", "address")]


class Tag(models.Model):
    """A label the team put on a name or an address (``tag:phishing`` finds them)."""

    kind = models.CharField(max_length=8, choices=SUBJECT_KINDS)
    subject = models.CharField(max_length=300, help_text="The normalized name or the address.")
    tag = models.CharField(max_length=40)
    created_by = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "subject", "tag"], name="tag_once_per_subject")]
        indexes = [models.Index(fields=["tag"]), models.Index(fields=["subject"])]

    def __str__(self) -> str:
        return f"{self.tag} on {self.subject}"


class Note(models.Model):
    """A note the team wrote on a name or an address."""

    kind = models.CharField(max_length=8, choices=SUBJECT_KINDS)
    subject = models.CharField(max_length=300)
    text = models.TextField(max_length=4000)
    author = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "subject"])]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note on {self.subject}"


class AnnotationEvent(models.Model):
    """The audit log of notes and tags: who changed what, when. Rows are only ever added."""

    ACTIONS = [("tag+", "tag added"), ("tag-", "tag removed"), ("note+", "note added"), ("note-", "note deleted")]

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150, help_text="Kept when the user is deleted.")
    action = models.CharField(max_length=8, choices=ACTIONS)
    kind = models.CharField(max_length=8, choices=SUBJECT_KINDS)
    subject = models.CharField(max_length=300)
    detail = models.TextField(max_length=4000, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "subject"])]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.username} {self.get_action_display()} on {self.subject}"
