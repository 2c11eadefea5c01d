"""Asking upstream pDNS services (``yapdns.upstream``), shared by the API, the dashboard and the CLI.

``ask`` guarantees:

* only configured connectors are asked (their keys live in settings, never in the database);
* an answer is reused for ``YAPDNS_UPSTREAM_CACHE_SECONDS`` (same connector and query): no request is sent;
* a connector is sent at most ``YAPDNS_UPSTREAM_DAILY_QUOTA`` requests in 24 hours (every page of a paged
  answer is one; failed requests count: they may have cost quota upstream); beyond it, ``QuotaExceeded`` and
  no request, and a paged answer is read only as far as the quota left allows;
* what comes back is normalized and written as ``imported`` evidence under the sensor ``upstream/<name>``
  with ``source`` the connector's name, through the same idempotent ingest path as every batch; rows that do
  not normalize are counted, never stored.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid

import msgspec
from django.db.models import Sum
from django.utils import timezone

from yapdns import config
from yapdns.core.batch import DecodedBatch, Reject
from yapdns.core.errors import ConfigurationError, InvalidObservation, InvalidQuery
from yapdns.core.model import Observation
from yapdns.core.normalize import normalize_observation
from yapdns.ingest import IngestService
from yapdns.server.enrichment.models import UpstreamFetch
from yapdns.server.store import get_store
from yapdns.storage.query import NameMatch
from yapdns.upstream import registry
from yapdns.upstream.base import UpstreamConnector, UpstreamError

SENSOR = "upstream"
DAY = dt.timedelta(hours=24)


class QuotaExceeded(UpstreamError):
    """This server's daily quota for the connector is used up; try after the oldest request ages out."""


class NotConfigured(ConfigurationError):
    """No such connector is configured (its key is not set)."""


class AskResult(msgspec.Struct, frozen=True):
    """What one ``ask`` did."""

    connector: str
    query: str
    cached: bool
    asked_at: dt.datetime
    accepted: int
    unreadable: int
    quota_used: int
    quota_limit: int
    upstream_quota: dict[str, object] | None = None


class ConnectorStatus(msgspec.Struct, frozen=True):
    name: str
    quota_used: int
    quota_limit: int
    cache_seconds: int


def normalize_query(text: str) -> tuple[str, bool]:
    """``(query, is_ip)``: an address, or an exact owner name (normalized); ``InvalidQuery`` otherwise."""
    text = text.strip()
    try:
        return str(ipaddress.ip_address(text)), True
    except ValueError:
        pass
    match = NameMatch.parse(text)
    if match.kind != "exact":
        raise InvalidQuery("ask upstream about an exact name or an address, not a wildcard")
    return match.name, False


def used(name: str) -> int:
    """Requests sent to ``name`` in the last 24 hours."""
    recent = UpstreamFetch.objects.filter(connector=name, asked_at__gte=timezone.now() - DAY)
    return int(recent.aggregate(n=Sum("requests"))["n"] or 0)


def status() -> list[ConnectorStatus]:
    cache = config.get_int("YAPDNS_UPSTREAM_CACHE_SECONDS")
    return [ConnectorStatus(name, used(name), registry.daily_quota(name), cache) for name in registry.configured()]


def connector(name: str) -> UpstreamConnector:
    found = registry.configured().get(name)
    if found is None:
        raise NotConfigured(f"no upstream connector {name!r} is configured (set its key: docs/enrichment.md)")
    return found


def ask(name: str, text: str, by: str = "") -> AskResult:
    """Ask connector ``name`` about ``text`` (or reuse a fresh answer) and store what it says."""
    the_connector = connector(name)
    query, is_ip = normalize_query(text)
    limit, now = registry.daily_quota(name), timezone.now()
    fresh = now - dt.timedelta(seconds=config.get_int("YAPDNS_UPSTREAM_CACHE_SECONDS"))
    cached = UpstreamFetch.objects.filter(connector=name, query=query, ok=True, asked_at__gte=fresh).order_by(
        "-asked_at").first()
    if cached is not None:
        return _result(cached, True, limit)
    left = limit - used(name)
    if left <= 0:
        raise QuotaExceeded(f"{name}: the daily quota of {limit} requests is used up")
    fetch = UpstreamFetch.objects.create(connector=name, query=query, asked_at=now, asked_by=by[:150])
    try:
        answer = the_connector.fetch(query, is_ip=is_ip, limit=config.get_int("YAPDNS_UPSTREAM_LIMIT"), requests=left)
    except UpstreamError as exc:
        fetch.error = str(exc)[:500]
        fetch.save(update_fields=["error"])
        raise
    fetch.accepted, fetch.unreadable = _store(name, answer.observations, fetch.pk)
    fetch.unreadable += answer.unreadable
    fetch.ok, fetch.upstream_quota = True, answer.quota
    fetch.requests, fetch.error = max(1, answer.requests), answer.stopped[:500]
    fetch.save(update_fields=["accepted", "unreadable", "ok", "upstream_quota", "requests", "error"])
    return _result(fetch, False, limit)


def _store(name: str, observations: list[Observation], fetch_id: int) -> tuple[int, int]:
    valid, rejects = [], []
    for index, obs in enumerate(observations):
        try:
            valid.append(msgspec.structs.replace(normalize_observation(obs), sensor_id=name))
        except InvalidObservation as exc:
            rejects.append(Reject(index, exc.code, str(exc)))
    batch = DecodedBatch(f"upstream-{name}-{fetch_id}-{uuid.uuid4().hex[:8]}", valid, rejects)
    result = IngestService(get_store()).submit(SENSOR, batch)
    return result.accepted, len(rejects)


def _result(fetch: UpstreamFetch, cached: bool, limit: int) -> AskResult:
    quota = fetch.upstream_quota if isinstance(fetch.upstream_quota, dict) else None
    return AskResult(fetch.connector, fetch.query, cached, fetch.asked_at, fetch.accepted, fetch.unreadable,
                     used(fetch.connector), limit, quota)
