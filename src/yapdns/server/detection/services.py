"""Watchlist and alert operations shared by the API, the dashboard, the ingest hook and the command line.

* ``add_entries``: store checked indicators (``indicators.py``) for an owner;
* ``record_hits``: turn matches into alerts, folding repeats of one
  (entry, record) within ``YAPDNS_ALERT_FOLD_SECONDS`` into one alert, and
  queue each new alert for delivery (``delivery.py``); one transaction at a
  time per process (so concurrent folds never race), retried when SQLite
  reports the application database locked by another process;
* ``retro_hunt``: match one entry against history (bounded by ``HUNT_MAX``
  records), as a background job;
* ``live_matcher``: the compiled watchlist of unexpired entries, rebuilt when
  this process changed an entry or when another did (checked every
  ``MATCHER_TTL`` seconds, so other workers see a change within that time);
* ``update_alert``: acknowledge, close, reopen, assign, comment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import User
from django.db import OperationalError, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from yapdns import config
from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Record
from yapdns.server.detection import delivery
from yapdns.server.detection.indicators import IndicatorSpec
from yapdns.server.detection.matching import EntryRule, Hit, WatchlistMatcher
from yapdns.server.detection.models import Alert, AlertComment, WatchlistEntry
from yapdns.storage.base import Store
from yapdns.storage.context import ContextFilter
from yapdns.storage.query import IpRange, NameMatch, RecordQuery

log = logging.getLogger(__name__)
HUNT_MAX = 1000
MATCHER_TTL = 5.0
STATUSES = ("open", "acknowledged", "closed")
WRITE_ATTEMPTS = 5
FOLD_FIELDS = ["time_first", "time_last", "count", "matches", "sensor", "last_matched_at"]
_ALERT_WRITES = threading.Lock()  # one alert transaction at a time per process: folds never race


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
    """One compiled matcher per process: rebuilt when this process changed an entry, or when the watchlist's
    signature changed (count, largest id and newest creation time of unexpired entries, read at most every
    ``MATCHER_TTL`` seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matcher: WatchlistMatcher | None = None
        self._signature: tuple[object, ...] | None = None
        self._checked = 0.0

    def invalidate(self) -> None:
        with self._lock:
            self._matcher = None

    def get(self) -> WatchlistMatcher:
        with self._lock:
            if self._matcher is not None and time.monotonic() - self._checked < MATCHER_TTL:
                return self._matcher
            signature = _signature()
            if self._matcher is None or signature != self._signature:
                self._matcher, self._signature = build_matcher(), signature
            self._checked = time.monotonic()
            return self._matcher


def _signature() -> tuple[object, ...]:
    found = active_entries().aggregate(n=Count("id"), top=Max("id"), newest=Max("created_at"))
    return found["n"], found["top"], found["newest"]


_CACHE = _MatcherCache()


def live_matcher() -> WatchlistMatcher:
    """The process's current compiled watchlist."""
    return _CACHE.get()


def forget_matcher() -> None:
    """Rebuild the compiled watchlist on next use (after entries changed outside ``add_entries``)."""
    _CACHE.invalidate()


def fold_key(entry_id: int, rrname: str, rrtype: str, rdata: str) -> str:
    """The identity of an (entry, record) pair, under which repeats fold."""
    return hashlib.sha256(f"{entry_id}\0{rrname}\0{rrtype}\0{rdata}".encode()).hexdigest()


def record_hits(hits: Sequence[Hit], origin: str = "live", channels: delivery.Channels | None = None) -> list[Alert]:
    """Fold matches into alerts; return the alerts created (repeats only update theirs)."""
    if not hits:
        return []
    channels = channels or delivery.Channels.from_settings()
    window = dt.timedelta(seconds=config.get_int("YAPDNS_ALERT_FOLD_SECONDS"))
    groups = _grouped(hits)
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with _ALERT_WRITES, transaction.atomic():
                return _apply(groups, origin, channels, timezone.now() - window)
        except OperationalError:  # SQLite's "database is locked" under another process's write: retry
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    return []


def _apply(groups: dict[str, list[Hit]], origin: str, channels: delivery.Channels, since: dt.datetime) -> list[Alert]:
    """Fold the groups into their recent alerts (one read, one bulk update); create alerts for the rest."""
    recent: dict[str, Alert] = {}
    for alert in Alert.objects.filter(fold_key__in=list(groups), last_matched_at__gte=since).order_by("id"):
        recent[alert.fold_key] = alert  # the latest alert of a key wins
    now = timezone.now()
    for key, alert in recent.items():
        _fold(alert, groups[key], now)
    Alert.objects.bulk_update(list(recent.values()), FOLD_FIELDS)
    created: list[Alert] = []
    wanted = {group[0].entry_id for key, group in groups.items() if key not in recent}
    kept = set(WatchlistEntry.objects.filter(pk__in=wanted).values_list("pk", flat=True))  # a cached matcher may
    for key, group in groups.items():  # still hold an entry another process deleted: its hits are dropped
        if key not in recent and group[0].entry_id in kept:
            alert = _new_alert(key, group, origin)
            delivery.queue(alert, channels)
            created.append(alert)
    return created


def _grouped(hits: Sequence[Hit]) -> dict[str, list[Hit]]:
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(fold_key(hit.entry_id, hit.rrname, hit.rrtype, hit.rdata), []).append(hit)
    return groups


def _fold(alert: Alert, group: list[Hit], now: dt.datetime) -> None:
    alert.time_first = min(alert.time_first, *(h.time_first for h in group))
    alert.time_last = max(alert.time_last, *(h.time_last for h in group))
    alert.count += sum(h.count for h in group)
    alert.matches += len(group)
    alert.sensor = group[-1].sensor or alert.sensor
    alert.last_matched_at = now


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
    if entry.kind == "asn":
        return RecordQuery(context=ContextFilter(asn=int(entry.value[2:])), limit=HUNT_MAX)
    return None


def retro_hunt(store: Store, entry_id: int) -> int:
    """Match one entry against stored records (at most ``HUNT_MAX``); alerts for what it finds; the count found.

    ASN entries find the A/AAAA records whose address any kept context row
    puts in the AS. Regex and NOD entries are not hunted (no index serves them; a regex hunt
    would be a full scan): they match from now on.
    """
    entry = WatchlistEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        return 0
    records = _hunted(store, hunt_query(entry))
    hits = [Hit(entry.pk, r.rrname, r.rrtype, r.rdata, "", r.time_first, r.time_last, r.count) for r in records]
    record_hits(hits, origin="retro-hunt")
    WatchlistEntry.objects.filter(pk=entry.pk).update(hunted_at=timezone.now(), hunt_found=len(hits))
    return len(hits)


def _hunted(store: Store, query: RecordQuery | None) -> list[Record]:
    """The records a hunt finds; none (logged) when the backend refuses the query."""
    if query is None:
        return []
    try:
        return list(store.iter_records(query))
    except InvalidQuery as exc:
        log.warning("retro-hunt skipped: %s", exc)
        return []


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
