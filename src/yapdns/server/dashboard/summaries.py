"""The overview's figures, each from a cheap read or a kept summary.

* ingest per hour and per sensor: the store's ``ingest_hourly`` rollup;
* records by type and totals: the store's counters (``Store.stats``);
* newly observed names: the store's ``rr_first`` index (``Store.new_names``);
* sensor health: the ``Sensor`` counters, plus the last hour's rollup rows;
* top names: a full scan, so it is kept in ``SummarySnapshot`` and refreshed
  at most every ``TOP_NAMES_MAX_AGE`` seconds, or 20 times as long as the
  last scan took (so the scan never takes more than ~5 % of one core). On a
  small store the refresh runs inline; on a large one a background thread
  does it, claimed through the application database so that only one worker
  (of any number) scans.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import msgspec
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from yapdns.server.dashboard.models import SummarySnapshot
from yapdns.server.sensors.models import Sensor
from yapdns.storage.base import IngestBucket, NameSummary, Store

log = logging.getLogger(__name__)
TOP_NAMES = "top_names"
TOP_NAMES_MAX_AGE = 600
SCAN_SHARE = 20
TOP_NAMES_LIMIT = 25
INLINE_SCAN_MAX_RECORDS = 200_000
CLAIM_TIMEOUT = dt.timedelta(minutes=30)
HISTORY_HOURS = 7 * 24
SERIES_MAX = 6
STALE_AFTER = dt.timedelta(hours=1)


@dataclass
class TopNames:
    names: list[NameSummary]
    computed_at: dt.datetime | None
    refreshing: bool


def top_names(store: Store, records: int) -> TopNames:
    """The kept top names; refresh them first (inline or in the background) when stale."""
    snap, _ = SummarySnapshot.objects.get_or_create(name=TOP_NAMES)
    fresh_after = timezone.now() - dt.timedelta(seconds=max(TOP_NAMES_MAX_AGE, SCAN_SHARE * snap.seconds))
    refreshing = False
    if snap.computed_at is None or snap.computed_at < fresh_after:
        if records <= INLINE_SCAN_MAX_RECORDS:
            snap = refresh_top_names(store)
        else:
            refreshing = _claim_and_start(store)
    names = [msgspec.convert(row, NameSummary) for row in snap.payload]
    return TopNames(names, snap.computed_at, refreshing or snap.started_at is not None)


def refresh_top_names(store: Store) -> SummarySnapshot:
    """Scan the store for the top names now and keep the result."""
    started = time.monotonic()
    names = store.scan_top_names(TOP_NAMES_LIMIT)
    seconds = time.monotonic() - started
    SummarySnapshot.objects.update_or_create(
        name=TOP_NAMES,
        defaults={
            "payload": msgspec.to_builtins(names),
            "computed_at": timezone.now(),
            "started_at": None,
            "seconds": seconds,
        },
    )
    log.info("top names refreshed in %.1f s", seconds)
    return SummarySnapshot.objects.get(name=TOP_NAMES)


def claim_refresh(now: dt.datetime | None = None) -> bool:
    """Atomically claim the next refresh (one UPDATE); False if another worker holds a live claim."""
    now = now or timezone.now()
    claimed = SummarySnapshot.objects.filter(
        Q(started_at__isnull=True) | Q(started_at__lt=now - CLAIM_TIMEOUT), name=TOP_NAMES
    ).update(started_at=now)
    return bool(claimed)


def _claim_and_start(store: Store) -> bool:
    if not claim_refresh():
        return False
    threading.Thread(target=_background_refresh, args=(store,), name="yapdns-top-names", daemon=True).start()
    return True


def _background_refresh(store: Store) -> None:
    try:
        refresh_top_names(store)
    except Exception:
        log.exception("refreshing the top names failed")
        SummarySnapshot.objects.filter(name=TOP_NAMES).update(started_at=None)
    finally:
        close_old_connections()
        connection.close()


def ingest_series(history: list[IngestBucket], now: int) -> dict[str, Any]:
    """Observations per hour for the busiest sensors (sub-sensors folded in; a series without any observation is
    left out), plus new records, which the page draws on an axis of their own."""
    start = now - now % 3600 - (HISTORY_HOURS - 1) * 3600
    hours = [start + i * 3600 for i in range(HISTORY_HOURS)]
    index = {h: i for i, h in enumerate(hours)}
    per_sensor: dict[str, list[int]] = defaultdict(lambda: [0] * HISTORY_HOURS)
    new_records = [0] * HISTORY_HOURS
    for bucket in history:
        slot = index.get(bucket.hour)
        if slot is None:
            continue
        per_sensor[_top_level(bucket.sensor)][slot] += bucket.observations
        new_records[slot] += bucket.new_records
    ranked = sorted(((k, v) for k, v in per_sensor.items() if any(v)), key=lambda kv: -sum(kv[1]))
    series = [{"name": name, "data": data} for name, data in ranked[:SERIES_MAX]]
    if len(ranked) > SERIES_MAX:
        rest = [sum(col) for col in zip(*(data for _, data in ranked[SERIES_MAX:]), strict=True)]
        series.append({"name": "other sensors", "data": rest})
    return {"hours": hours, "series": series, "new_records": new_records}


def _top_level(sensor: str) -> str:
    return sensor.split("/", 1)[0] if sensor else "(several sensors)"


@dataclass
class SensorHealth:
    sensor: Sensor
    status: str
    last_hour: int


def sensor_health(history: list[IngestBucket], now: int) -> list[SensorHealth]:
    """Every sensor with its status and the observations it sent in the last full and current hour."""
    recent: dict[str, int] = defaultdict(int)
    for bucket in history:
        if bucket.hour >= now - now % 3600 - 3600:
            recent[_top_level(bucket.sensor)] += bucket.observations
    cutoff = timezone.now() - STALE_AFTER
    rows = []
    for sensor in Sensor.objects.all():
        if not sensor.active:
            status = "revoked"
        elif sensor.last_seen_at is None:
            status = "never seen"
        elif sensor.last_seen_at < cutoff:
            status = "stale"
        else:
            status = "ok"
        rows.append(SensorHealth(sensor, status, recent.get(sensor.name, 0)))
    return rows
