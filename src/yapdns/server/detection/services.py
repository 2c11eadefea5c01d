"""Watchlist and alert operations shared by the API, the dashboard, the ingest hook and the command line.

* ``add_entries``: store checked indicators (``indicators.py``) for an owner;
* ``log_matches``: the ingest hook's cheap, durable part: one ``MatchLog`` row
  per (entry, record) of each committed batch, unique per (entry, record, batch),
  so a replayed batch adds nothing;
* ``fold_pending``: fold logged matches into alerts, many batches at once, off
  the request path (the server's folding thread, the worker's jobs, the end of
  ``yapdns import``);
* ``record_hits``: turn matches into alerts, folding repeats of one
  (entry, record) within ``YAPDNS_ALERT_FOLD_SECONDS`` into one alert (live
  hits add their observations' counts; a hunt's hits carry the record's whole
  count, which already holds what live matching added, so the alert takes the
  larger of the two instead of the sum, and is marked ``hunted``: later live
  folds into it never take its count past the record's stored count), and
  queue each new alert for delivery (``delivery.py``); one alert transaction at
  a time (a lock per process, the write lock on SQLite, an advisory lock on
  PostgreSQL), retried when SQLite reports the database locked;
* ``retro_hunt``: match one entry against history (bounded by ``HUNT_MAX``
  records), as a background job;
* ``live_matcher``: the compiled watchlist of unexpired entries, rebuilt when
  this process changed an entry or when another did (checked every
  ``MATCHER_TTL`` seconds, so other workers see a change within that time);
* ``update_alert``: acknowledge, close, reopen, assign, comment.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from yapdns import config
from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Record
from yapdns.server.detection import delivery
from yapdns.server.detection.indicators import IndicatorSpec
from yapdns.server.detection.matching import EntryRule, Hit, WatchlistMatcher
from yapdns.server.detection.models import Alert, AlertComment, MatchLog, WatchlistEntry
from yapdns.storage.base import Store
from yapdns.storage.context import ContextFilter
from yapdns.storage.query import IpRange, NameMatch, RecordQuery, TypeFilter

log = logging.getLogger(__name__)
HUNT_MAX = 1000
MATCHER_TTL = 5.0
STATUSES = ("open", "acknowledged", "closed")
WRITE_ATTEMPTS = 5
FOLD_FIELDS = ["time_first", "time_last", "count", "matches", "sensor", "last_matched_at", "hunted"]
FOLD_BATCH = 2000  # logged matches folded in one transaction
PRUNE_EVERY = 600.0  # seconds between two prunes of folded match rows in one process
ADVISORY_LOCK = 0x59415044  # PostgreSQL advisory lock id of alert transactions ("YAPD")
_ALERT_WRITES = threading.Lock()  # one alert transaction at a time per process: folds never race
_KEEP_WRITES = threading.Lock()  # SQLite: this process's request threads queue here, not in SQLite's busy handler
_PRUNED = [0.0]
KEEP_ROWS = 500  # match rows one statement keeps (13 parameters each: under SQLite's and PostgreSQL's limits)
_KEEP_COLUMNS = ("key", "fold_key", "entry_id", "rrname", "rrtype", "rdata", "sensor", "time_first", "time_last",
                 "count", "matches", "created_at", "folded")
_KEEP_SQL = "INSERT INTO \"{}\" ({}) VALUES".format(
    MatchLog._meta.db_table, ", ".join(f'"{column}"' for column in _KEEP_COLUMNS)
)
_KEEP_ROW = f"({', '.join(['%s'] * len(_KEEP_COLUMNS))})"
T = TypeVar("T")


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


def log_matches(batches: Sequence[tuple[Sequence[Hit], str, str]]) -> int:
    """Keep committed batches' matches (each batch's hits, sensor and batch id), one row per (entry, record) of a
    batch, for ``fold_pending``; rows added.

    A row already kept for this (entry, record, batch) (a replay, or a retry whose answer was lost) is left as it
    is, so a batch is counted once however often it is matched. One ``INSERT ... ON CONFLICT DO NOTHING``
    statement (per ``KEEP_ROWS`` rows) in autocommit, not the ORM's transaction around it: the store's writer
    thread runs this once per committed group, between the commit and the group's answers.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows: dict[str, tuple[Any, ...]] = {}
    for hits, sensor, batch_id in batches:
        for key, group in _grouped(hits).items():
            first = group[0]
            row_key = hashlib.sha256(f"{key}\0{sensor}\0{batch_id}".encode()).hexdigest()
            rows[row_key] = (
                row_key, key, first.entry_id, first.rrname, first.rrtype, first.rdata, group[-1].sensor,
                min(h.time_first for h in group), max(h.time_last for h in group), sum(h.count for h in group),
                sum(h.matches for h in group), now, False,
            )  # a batch twice in one group (a replay) is one row
    kept = list(rows.values())
    # SQLite: a thread released by a lock goes at once, while SQLite's busy handler sleeps 1-100 ms a retry
    with _KEEP_WRITES if connection.vendor == "sqlite" else contextlib.nullcontext(), connection.cursor() as cursor:
        for start in range(0, len(kept), KEEP_ROWS):
            chunk = kept[start : start + KEEP_ROWS]
            values = ", ".join([_KEEP_ROW] * len(chunk))
            cursor.execute(f"{_KEEP_SQL} {values} ON CONFLICT DO NOTHING", [v for row in chunk for v in row])
    return len(kept)


def pending_matches() -> int:
    """Logged matches not folded into alerts yet."""
    return MatchLog.objects.filter(folded=False).count()


def fold_pending(store: Store | None = None, limit: int = FOLD_BATCH) -> int:
    """Fold every logged match not folded yet into alerts (``limit`` rows a transaction); the rows folded.

    ``store`` serves the records' stored counts for alerts a retro-hunt counted (without it their count is
    not capped). Folded rows older than the replay window are pruned now and then.
    """
    channels = delivery.Channels.from_settings()
    total = 0
    while True:
        done = _alert_transaction(lambda: _fold_some(store, limit, channels))
        total += done
        if done < limit:
            break
    _prune_folded()
    return total


def _fold_some(store: Store | None, limit: int, channels: delivery.Channels) -> int:
    rows = list(MatchLog.objects.filter(folded=False).order_by("id")[:limit])
    if not rows:
        return 0
    groups: dict[str, list[Hit]] = {}
    for row in rows:
        groups.setdefault(row.fold_key, []).append(Hit(
            row.entry_id, row.rrname, row.rrtype, row.rdata, row.sensor, row.time_first, row.time_last, row.count,
            row.matches,
        ))
    _apply(groups, "live", channels, _since(), False, store)
    MatchLog.objects.filter(pk__in=[row.pk for row in rows]).update(folded=True)
    return len(rows)


def _prune_folded() -> None:
    if time.monotonic() - _PRUNED[0] < PRUNE_EVERY:
        return
    _PRUNED[0] = time.monotonic()
    horizon = timezone.now() - dt.timedelta(seconds=config.get_int("YAPDNS_REPLAY_WINDOW"))
    MatchLog.objects.filter(folded=True, created_at__lt=horizon).delete()


def record_hits(
    hits: Sequence[Hit],
    origin: str = "live",
    channels: delivery.Channels | None = None,
    totals: bool = False,
    store: Store | None = None,
) -> list[Alert]:
    """Fold matches into alerts at once; return the alerts created (repeats only update theirs).

    ``totals``: each hit's count is its record's whole stored count (a retro-hunt), not one observation's: the
    alert's count becomes the larger of its own and the record's, so what live matching counted is not counted
    again, and hunting twice adds nothing.
    """
    if not hits:
        return []
    chosen = channels or delivery.Channels.from_settings()
    groups = _grouped(hits)
    return _alert_transaction(lambda: _apply(groups, origin, chosen, _since(), totals, store))


def without_alerts(hits: Sequence[Hit]) -> list[Hit]:
    """The hits whose (entry, record) has no alert in the fold window."""
    keys = {fold_key(h.entry_id, h.rrname, h.rrtype, h.rdata): h for h in hits}
    alerted = set(Alert.objects.filter(fold_key__in=list(keys), last_matched_at__gte=_since())
                  .values_list("fold_key", flat=True))
    return [h for key, h in keys.items() if key not in alerted]


def _since() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=config.get_int("YAPDNS_ALERT_FOLD_SECONDS"))


def _alert_transaction(work: Callable[[], T]) -> T:
    """Run ``work`` as the only alert transaction (of this process; of every process through SQLite's write
    lock or a PostgreSQL advisory lock), retried when SQLite reports the database locked."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with _ALERT_WRITES, transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
                return work()
        except OperationalError:  # SQLite's "database is locked" under another process's write: retry
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


def _apply(
    groups: dict[str, list[Hit]],
    origin: str,
    channels: delivery.Channels,
    since: dt.datetime,
    totals: bool,
    store: Store | None = None,
) -> list[Alert]:
    """Fold the groups into their recent alerts (one read, one bulk update); create alerts for the rest."""
    recent: dict[str, Alert] = {}
    for alert in Alert.objects.filter(fold_key__in=list(groups), last_matched_at__gte=since).order_by("id"):
        recent[alert.fold_key] = alert  # the latest alert of a key wins
    now = timezone.now()
    for key, alert in recent.items():
        _fold(alert, groups[key], now, totals)
        if alert.hunted and not totals and store is not None:
            alert.count = min(alert.count, stored_count(store, alert) or alert.count)
    Alert.objects.bulk_update(list(recent.values()), FOLD_FIELDS)
    created: list[Alert] = []
    wanted = {group[0].entry_id for key, group in groups.items() if key not in recent}
    kept = set(WatchlistEntry.objects.filter(pk__in=wanted).values_list("pk", flat=True))  # a cached matcher may
    for key, group in groups.items():  # still hold an entry another process deleted: its hits are dropped
        if key not in recent and group[0].entry_id in kept:
            alert = _new_alert(key, group, origin, totals)
            delivery.queue(alert, channels)
            created.append(alert)
    return created


def stored_count(store: Store, alert: Alert) -> int | None:
    """The stored count of an alert's record (None when the store has no such record)."""
    query = RecordQuery(
        rrname=NameMatch.parse(alert.rrname), types=TypeFilter.parse(alert.rrtype), limit=HUNT_MAX
    )
    try:
        counts = [r.count for r in store.iter_records(query) if r.rdata == alert.rdata]
    except InvalidQuery:
        return None
    return sum(counts) if counts else None


def _grouped(hits: Sequence[Hit]) -> dict[str, list[Hit]]:
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(fold_key(hit.entry_id, hit.rrname, hit.rrtype, hit.rdata), []).append(hit)
    return groups


def _counted(group: list[Hit], totals: bool) -> int:
    """The observations a group stands for: the sum of live hits' counts, or the largest whole count."""
    return max(h.count for h in group) if totals else sum(h.count for h in group)


def _fold(alert: Alert, group: list[Hit], now: dt.datetime, totals: bool) -> None:
    alert.time_first = min(alert.time_first, *(h.time_first for h in group))
    alert.time_last = max(alert.time_last, *(h.time_last for h in group))
    counted = _counted(group, totals)
    alert.count = max(alert.count, counted) if totals else alert.count + counted
    alert.hunted = alert.hunted or totals
    alert.matches += sum(h.matches for h in group)
    alert.sensor = group[-1].sensor or alert.sensor
    alert.last_matched_at = now


def _new_alert(key: str, group: list[Hit], origin: str, totals: bool) -> Alert:
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
        count=_counted(group, totals),
        matches=sum(h.matches for h in group),
        origin=origin,
        hunted=totals,
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
    record_hits(hits, origin="retro-hunt", totals=True, store=store)
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
    if ids:
        fold_pending(store)  # live matches kept so far first: the hunt's count then covers them
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
