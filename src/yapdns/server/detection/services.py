"""Watchlist and alert operations shared by the API, the dashboard, the ingest hook and the command line.

* ``add_entries``: store checked indicators (``indicators.py``) for an owner;
* ``record_hits``: turn matches into alerts, folding repeats of one
  (entry, record) within ``YAPDNS_ALERT_FOLD_SECONDS`` into one alert, and
  queue each new alert for delivery (``delivery.py``);
* ``retro_hunt``: match one entry against history (bounded by ``HUNT_MAX``
  records), as a background job;
* ``live_matcher``: the compiled watchlist of unexpired entries, rebuilt when
  this process changed an entry or ``MATCHER_TTL`` seconds passed (so other
  workers see a new entry within that time);
* ``update_alert``: acknowledge, close, reopen, assign, comment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from yapdns import config
from yapdns.server.detection import delivery
from yapdns.server.detection.indicators import IndicatorSpec
from yapdns.server.detection.matching import EntryRule, Hit, WatchlistMatcher
from yapdns.server.detection.models import Alert, AlertComment, WatchlistEntry
from yapdns.storage.base import Store
from yapdns.storage.query import IpRange, NameMatch, RecordQuery

HUNT_MAX = 1000
MATCHER_TTL = 5.0
STATUSES = ("open", "acknowledged", "closed")


def add_entries(specs: Iterable[IndicatorSpec], owner: User | None, source: str) -> list[WatchlistEntry]:
    """Store indicators as watchlist entries (the caller checked them); the live matcher picks them up."""
    rows = [
        WatchlistEntry(
            kind=s.kind,
            value=s.value,
            label=s.label,
            tlp=s.tlp or "",
            expires_at=s.expires_at,
            owner=owner,
            source=source,
        )
        for s in specs
    ]
    created = WatchlistEntry.objects.bulk_create(rows)
    _CACHE.invalidate()
    return created


def delete_entry(entry_id: int) -> bool:
    """Remove an entry and its alerts."""
    deleted, _ = WatchlistEntry.objects.filter(pk=entry_id).delete()
    _CACHE.invalidate()
    return deleted > 0


def active_entries(now: dt.datetime | None = None) -> QuerySet[WatchlistEntry]:
    """Entries that have not expired."""
    now = now or timezone.now()
    return WatchlistEntry.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def build_matcher(now: dt.datetime | None = None) -> WatchlistMatcher:
    """The compiled watchlist of every unexpired entry."""
    rows = active_entries(now).values_list("pk", "kind", "value")
    return WatchlistMatcher(EntryRule(pk, kind, value) for pk, kind, value in rows.iterator())


class _MatcherCache:
    """One compiled matcher per process, rebuilt on local change or after ``MATCHER_TTL`` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matcher: WatchlistMatcher | None = None
        self._built = 0.0

    def invalidate(self) -> None:
        with self._lock:
            self._matcher = None

    def get(self) -> WatchlistMatcher:
        with self._lock:
            if self._matcher is None or time.monotonic() - self._built > MATCHER_TTL:
                self._matcher, self._built = build_matcher(), time.monotonic()
            return self._matcher


_CACHE = _MatcherCache()


def live_matcher() -> WatchlistMatcher:
    """The process's current compiled watchlist."""
    return _CACHE.get()


def fold_key(entry_id: int, rrname: str, rrtype: str, rdata: str) -> str:
    """The identity of an (entry, record) pair, under which repeats fold."""
    return hashlib.sha256(f"{entry_id}\0{rrname}\0{rrtype}\0{rdata}".encode()).hexdigest()


def record_hits(hits: Sequence[Hit], origin: str = "live", channels: delivery.Channels | None = None) -> list[Alert]:
    """Fold matches into alerts; return the alerts created (repeats only update theirs)."""
    if not hits:
        return []
    channels = channels or delivery.Channels.from_settings()
    window = dt.timedelta(seconds=config.get_int("YAPDNS_ALERT_FOLD_SECONDS"))
    created: list[Alert] = []
    with transaction.atomic():
        for key, group in _grouped(hits).items():
            alert = _fold(key, group, timezone.now() - window)
            if alert is None:
                alert = _new_alert(key, group, origin)
                delivery.queue(alert, channels)
                created.append(alert)
    return created


def _grouped(hits: Sequence[Hit]) -> dict[str, list[Hit]]:
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(fold_key(hit.entry_id, hit.rrname, hit.rrtype, hit.rdata), []).append(hit)
    return groups


def _fold(key: str, group: list[Hit], since: dt.datetime) -> Alert | None:
    alert = Alert.objects.filter(fold_key=key, last_matched_at__gte=since).order_by("-id").first()
    if alert is None:
        return None
    alert.time_first = min(alert.time_first, *(h.time_first for h in group))
    alert.time_last = max(alert.time_last, *(h.time_last for h in group))
    alert.count += sum(h.count for h in group)
    alert.matches += len(group)
    alert.sensor = group[-1].sensor or alert.sensor
    alert.last_matched_at = timezone.now()
    alert.save(update_fields=["time_first", "time_last", "count", "matches", "sensor", "last_matched_at"])
    return alert


def _new_alert(key: str, group: list[Hit], origin: str) -> Alert:
    first = group[0]
    return Alert.objects.create(
        entry_id=first.entry_id,
        fold_key=key,
        rrname=first.rrname,
        rrtype=first.rrtype,
        rdata=first.rdata,
        sensor=group[-1].sensor,
        time_first=min(h.time_first for h in group),
        time_last=max(h.time_last for h in group),
        count=sum(h.count for h in group),
        matches=len(group),
        origin=origin,
    )


def hunt_query(entry: WatchlistEntry) -> RecordQuery | None:
    """The store lookup that finds an entry's matches in history (None: not searchable by index)."""
    if entry.kind == "name":
        return RecordQuery(rrname=NameMatch.parse(entry.value), limit=HUNT_MAX)
    if entry.kind == "ip":
        return RecordQuery(rdata_ip=IpRange.parse(entry.value), limit=HUNT_MAX)
    return None


def retro_hunt(store: Store, entry_id: int) -> int:
    """Match one entry against stored records (at most ``HUNT_MAX``); alerts for what it finds; the count found.

    Regex and NOD entries are not hunted (no index serves them; a regex hunt
    would be a full scan): they match from now on.
    """
    entry = WatchlistEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        return 0
    query = hunt_query(entry)
    records = list(store.iter_records(query)) if query else []
    hits = [Hit(entry.pk, r.rrname, r.rrtype, r.rdata, "", r.time_first, r.time_last, r.count) for r in records]
    record_hits(hits, origin="retro-hunt")
    WatchlistEntry.objects.filter(pk=entry.pk).update(hunted_at=timezone.now(), hunt_found=len(hits))
    return len(hits)


def hunt_pending(store: Store, limit: int = 100) -> int:
    """Retro-hunt every entry not hunted yet (the background job's entry point); the number of entries hunted."""
    pending = WatchlistEntry.objects.filter(hunted_at__isnull=True).order_by("id")
    ids = list(pending.values_list("pk", flat=True)[:limit])
    for entry_id in ids:
        retro_hunt(store, entry_id)
    return len(ids)


def update_alert(
    alert: Alert,
    by: User,
    *,
    status: str | None = None,
    assign: bool = False,
    assignee: User | None = None,
    comment: str = "",
) -> Alert:
    """Change an alert's status or (when ``assign``) its assignee (``None`` unassigns), and add a comment."""
    if status is not None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        alert.status = status
    if assign:
        alert.assignee = assignee
    alert.save(update_fields=["status", "assignee"])
    if comment.strip():
        AlertComment.objects.create(alert=alert, author=by, text=comment.strip()[:2000])
    return alert
