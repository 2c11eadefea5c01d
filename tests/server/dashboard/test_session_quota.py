"""Quotas for dashboard sessions: queries made with a session (search, bulk, domain and record pages, the
own API called from the browser) count per user, by day and by burst, from the user's own limits or the
YAPDNS_SESSION_QUOTA_* defaults; a spent quota is a 429 page (or JSON) that names the limit, with
Retry-After. Tokens keep their own quota."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client, override_settings

from tests.server.conftest import auth, make_user
from yapdns.cli.quota import quota
from yapdns.server.accounts.services import create_query_token
from yapdns.server.compat.models import SessionCounter, SessionQuota
from yapdns.storage.base import Store


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def refused_page(response: HttpResponse, window: str) -> None:
    assert response.status_code == 429
    text = response.content.decode()
    assert "Query quota reached" in text and f"dashboard session&#x27;s (per user) {window} limit" in text
    assert 0 < int(response["Retry-After"]) <= 86_400


@override_settings(SESSION_QUOTA_DAILY=3)
def test_the_default_daily_limit_counts_each_users_pages_and_api_calls(store: Store) -> None:
    ana, rita = make_user("ana"), make_user("rita", "read-only")
    client = signed_in(ana)
    assert client.get("/").status_code == 200 and client.get("/search").status_code == 200  # no query: free
    assert client.get("/search", {"q": "example.com"}).status_code == 200
    assert client.get("/domain/example.com").status_code == 200
    assert client.get("/api/v1/records", {"q": "example.com"}).status_code == 200  # the API, with the session
    refused_page(client.get("/search", {"q": "example.com"}), "day")
    api = client.get("/api/v1/rrsets", {"rrname": "example.com"})
    assert api.status_code == 429 and api.json()["limit"] == "day" and "session" in api.json()["error"]
    token = create_query_token(ana, "script")[1]
    assert Client().get("/api/v1/records", {"q": "example.com"}, **auth(token)).status_code == 200  # its own
    assert signed_in(rita).get("/search", {"q": "example.com"}).status_code == 200  # per user
    assert SessionCounter.objects.get(user=ana, window="day").used == 3


def test_a_users_own_burst_and_bulk_counting(store: Store) -> None:
    ana = make_user("ana")
    SessionQuota.objects.create(user=ana, daily_limit=3, burst_size=2, burst_window=3600)
    client = signed_in(ana)
    too_many = client.post("/bulk", {"indicators": "a.example\nb.example\nc.example"})
    refused_page(too_many, "burst")  # three indicators, three queries: refused whole, nothing counted
    assert client.post("/bulk", {"indicators": "a.example\nb.example"}).status_code == 200
    refused_page(client.get("/record", {"rrname": "a.example", "rrtype": "A", "rdata": "192.0.2.1"}), "burst")
    assert signed_in(make_user("rita")).get("/search", {"q": "example.com"}).status_code == 200  # the default


def test_quota_user_command(store: Store) -> None:
    make_user("ana")
    runner = CliRunner()
    shown = runner.invoke(quota, ["user", "ana"])
    assert shown.exit_code == 0 and shown.output.strip() == "user ana (default): daily=unlimited, burst=none"
    mine = runner.invoke(quota, ["user", "ana", "--daily", "100", "--burst", "20/60"])
    assert mine.output.strip() == "user ana (own): daily=100, burst=20/60s"
    assert runner.invoke(quota, ["user", "ana", "--clear"]).output.strip().startswith("user ana (default)")
    assert not SessionQuota.objects.exists()
    bad = runner.invoke(quota, ["user", "ana", "--burst", "lots"])
    assert bad.exit_code == 1 and "QUERIES/SECONDS" in bad.output
    assert runner.invoke(quota, ["user", "nobody"]).exit_code == 1


@pytest.mark.parametrize("value", ["60", "x/60", "60/0"])
def test_a_bad_burst_setting_is_refused(value: str) -> None:
    from yapdns.config import parse_rate
    from yapdns.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="YAPDNS_SESSION_QUOTA_BURST takes QUERIES/SECONDS"):
        parse_rate(value, "YAPDNS_SESSION_QUOTA_BURST")
