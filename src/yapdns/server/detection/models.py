"""Watchlist entries, the alerts their matches raise, comments on alerts, and the outbox of alert deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

KIND_CHOICES = [
    ("name", "name"), ("ip", "IP/CIDR"), ("regex", "regex"), ("nod", "new name under"), ("asn", "AS number"),
]
TLP_CHOICES = [("", "none"), ("white", "TLP:WHITE"), ("green", "TLP:GREEN"), ("amber", "TLP:AMBER"), ("red", "TLP:RED")]
STATUS_CHOICES = [("open", "open"), ("acknowledged", "acknowledged"), ("closed", "closed")]
CHANNEL_CHOICES = [("webhook", "webhook"), ("syslog", "syslog"), ("smtp", "email")]


class WatchlistEntry(models.Model):
    """One indicator to watch for (``indicators.py`` checks and normalizes ``value`` for its ``kind``)."""

    kind = models.CharField(max_length=8, choices=KIND_CHOICES)
    value = models.CharField(max_length=500)
    label = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    tlp = models.CharField(max_length=8, choices=TLP_CHOICES, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, default="api")  # dashboard, api, lines, csv, stix, misp
    created_at = models.DateTimeField(auto_now_add=True)
    hunted_at = models.DateTimeField(null=True, blank=True)  # when the retro-hunt over history finished
    hunt_found = models.IntegerField(default=0)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["kind", "value"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Alert(models.Model):
    """A watchlist match on one record; repeats within the fold window add to ``count`` and ``time_last``."""

    entry = models.ForeignKey(WatchlistEntry, on_delete=models.CASCADE, related_name="alerts")
    fold_key = models.CharField(max_length=64, db_index=True)  # sha256 of (entry, rrname, rrtype, rdata)
    rrname = models.CharField(max_length=1100)
    rrtype = models.CharField(max_length=16)
    rdata = models.TextField()
    sensor = models.CharField(max_length=200, blank=True)
    time_first = models.BigIntegerField()  # the matched observations' window (epoch seconds)
    time_last = models.BigIntegerField()
    count = models.BigIntegerField(default=0)
    matches = models.IntegerField(default=1)  # how many matches were folded in
    origin = models.CharField(max_length=12, default="live")  # live, retro-hunt, nod
    hunted = models.BooleanField(default=False)  # a retro-hunt set its count to its record's stored count
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_matched_at = models.DateTimeField(default=timezone.now)  # the fold window runs from here
    status = models.CharField(max_length=12, choices=STATUS_CHOICES, default="open", db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.entry} on {self.rrname} {self.rrtype} {self.rdata}"


class MatchLog(models.Model):
    """One live match of one ingest batch: an entry on a record, with the batch's observations of it.

    Written after the store committed the batch and before the ingest answer (so a crash loses none), folded
    into alerts later off the request path (``services.fold_pending``). ``key`` (entry, record, sensor and batch
    id) is unique, so a replayed batch adds no row and counts nothing twice; folded rows are kept for the replay
    window for that, then pruned.
    """

    key = models.CharField(max_length=64, unique=True)
    fold_key = models.CharField(max_length=64)
    entry_id = models.BigIntegerField()  # no foreign key: rows of a deleted entry are dropped when folded
    rrname = models.CharField(max_length=1100)
    rrtype = models.CharField(max_length=16)
    rdata = models.TextField()
    sensor = models.CharField(max_length=200, blank=True)
    time_first = models.BigIntegerField()
    time_last = models.BigIntegerField()
    count = models.BigIntegerField()
    matches = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    folded = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["id"], condition=models.Q(folded=False), name="matchlog_pending")]


class AlertComment(models.Model):
    """A note an analyst left on an alert."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.CharField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")


class AlertDelivery(models.Model):
    """The outbox: one row per alert and configured channel, kept until the receiver took it."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=CHANNEL_CHOICES)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "channel"], name="one_delivery_per_channel")]


class JobCursor(models.Model):
    """How far a background job read a stream of the store (e.g. the NOD watch's discovery cursor)."""

    name = models.CharField(max_length=64, unique=True)
    value = models.CharField(max_length=200)
    updated_at = models.DateTimeField(auto_now=True)


class NameScore(models.Model):
    """A name's latest signals (``signals.py``: fast-flux score, domain age, DGA, re-pointing), kept by the
    scoring job for listings and search results. ``n_networks`` holds n_ASN, counted on ``asn_basis``."""

    name = models.CharField(max_length=1100, unique=True)
    score = models.FloatField(db_index=True)
    flux = models.BooleanField(default=False, db_index=True)
    n_addresses = models.IntegerField()
    n_networks = models.IntegerField()
    n_ns = models.IntegerField()
    ttl_min = models.IntegerField(null=True)
    asn_basis = models.CharField(max_length=8, default="network")  # asn, as_name, network, mixed, none
    domain_age = models.BigIntegerField(null=True)  # seconds: registered domain's age at the name's first sight
    young = models.BooleanField(default=False)
    entropy = models.FloatField(null=True)
    bigram = models.FloatField(null=True)
    dga = models.BooleanField(default=False, db_index=True)
    repointed = models.BooleanField(default=False, db_index=True)
    new_as = models.CharField(max_length=300, blank=True)  # the ASes a re-pointed name moved to
    suspicious = models.BooleanField(default=False, db_index=True)  # flux, dga or repointed
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-score", "name")
