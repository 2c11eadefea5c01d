"""Token quotas on the own API: one per query request, one per query of a bulk request, the same counters as
DNSDB's rate_limit, and refusals that say which limit was hit."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from tests.server.conftest import auth
from yapdns.server.accounts.models import ApiToken
from yapdns.server.compat.models import QueryQuota
from yapdns.storage.base import Store


def limit(token: str, **quota: object) -> None:
    from yapdns.server import tokens

    row = ApiToken.objects.get(digest=tokens.digest(token))
    QueryQuota.objects.update_or_create(token=row, defaults=quota)


def test_the_daily_limit_covers_queries_and_bulk(client: Client, store: Store, query_token: str) -> None:
    limit(query_token, daily_limit=4)
    assert client.get("/api/v1/records", {"q": "example.com"}, **auth(query_token)).status_code == 200
    bulk = client.post("/api/v1/bulk", {"queries": ["a.example", "b.example"]}, content_type="application/json",
                       **auth(query_token))
    assert bulk.status_code == 200
    too_many = client.post("/api/v1/bulk", {"queries": ["c.example", "d.example"]},
                           content_type="application/json", **auth(query_token))
    assert too_many.status_code == 429  # 3 used + 2 > 4: nothing of it runs, nothing is counted
    assert too_many.json()["limit"] == "day" and "day" in too_many.json()["error"]
    assert 0 < int(too_many["Retry-After"]) <= 86400
    assert client.get("/api/v1/records", {"q": "example.com"}, **auth(query_token)).status_code == 200  # the 4th
    refused = client.get("/api/v1/rrsets", {"rrname": "example.com"}, **auth(query_token))
    assert refused.status_code == 429 and refused.json()["limit"] == "day"
    rate = client.get("/dnsdb/v2/rate_limit", HTTP_X_API_KEY=query_token).json()["rate"]
    assert (rate["limit"], rate["remaining"]) == (4, 0)  # DNSDB reports the counters the own API spent


def test_burst_and_expiry(client: Client, store: Store, query_token: str) -> None:
    limit(query_token, burst_size=1, burst_window=3600)
    assert client.get("/api/v1/qnames", {"rrname": "example.com"}, **auth(query_token)).status_code == 200
    burst = client.get("/api/v1/qnames", {"rrname": "example.com"}, **auth(query_token))
    assert burst.status_code == 429 and burst.json()["limit"] == "burst" and burst["Retry-After"]
    limit(query_token, burst_size=None, burst_window=None, expires_at=timezone.now() - dt.timedelta(days=1))
    expired = client.get("/api/v1/records", {"q": "example.com"}, **auth(query_token))
    assert expired.status_code == 401 and expired.json()["limit"] == "expired"


def test_a_token_without_quota_and_a_session_are_not_limited(client: Client, store: Store, query_token: str) -> None:
    for _ in range(3):
        assert client.get("/api/v1/records", {"q": "example.com"}, **auth(query_token)).status_code == 200
