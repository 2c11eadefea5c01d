"""A capped answer never passes for the whole one (issue 13, section 7): whenever YAPDNS_RESULTS_MAX (or a
token's results_max) can cut an answer, ``X-Yapdns-Results-Max`` says so up front in every format, and the
formats that can end with a status do (JSON ``limited``, SAF ``limited``)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from tests.server.conftest import auth
from tests.server.query.test_views import obs
from yapdns.server.limits import RESULTS_MAX_HEADER
from yapdns.storage.base import BatchRef, Store


@pytest.fixture
def five(store: Store, settings: Settings) -> Store:
    settings.RESULTS_MAX = 3
    store.write([obs(f"h{i}.cap.example", "A", f"192.0.2.{i}") for i in range(1, 6)], BatchRef("s1", "cap"))
    return store


def body(reply: object) -> str:
    return b"".join(reply.streaming_content).decode() if reply.streaming else reply.content.decode()  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", ["cof", "csv"])
def test_a_streamed_answer_cut_at_the_cap_says_so_up_front(client: Client, five: Store, query_token: str, fmt: str) -> None:
    for limit in ("0", "50", ""):
        reply = client.get("/api/v1/records", {"q": "*.cap.example", "format": fmt, "limit": limit}, **auth(query_token))
        rows = [line for line in body(reply).splitlines() if "cap.example" in line]
        assert len(rows) == 3 and reply[RESULTS_MAX_HEADER] == "3", (fmt, limit)
    reply = client.get("/api/v1/records", {"q": "*.cap.example", "format": fmt, "limit": 2}, **auth(query_token))
    assert RESULTS_MAX_HEADER not in reply and len([x for x in body(reply).splitlines() if "cap.example" in x]) == 2


def test_a_json_page_says_it_up_front_and_at_the_end(client: Client, five: Store, query_token: str) -> None:
    reply = client.get("/api/v1/records", {"q": "*.cap.example", "limit": 0}, **auth(query_token))
    assert reply[RESULTS_MAX_HEADER] == "10000" and reply.json()["limited"] is False  # JSON pages hold 10,000
    reply = client.get("/api/v1/records", {"q": "*.cap.example", "limit": 2}, **auth(query_token))
    assert RESULTS_MAX_HEADER not in reply and reply.json()["limited"] is True


def test_dnsdb_says_it_up_front_and_ends_limited(client: Client, five: Store, query_token: str) -> None:
    for limit in ("?limit=0", "", "?limit=9"):
        reply = client.get("/dnsdb/v2/lookup/rrset/name/*.cap.example" + limit, HTTP_X_API_KEY=query_token)
        lines = [json.loads(line) for line in body(reply).splitlines()]
        assert reply[RESULTS_MAX_HEADER] == "3", limit
        assert len(lines) == 5 and lines[-1] == {"cond": "limited", "msg": "Result limit reached"}, limit
    reply = client.get("/dnsdb/v2/lookup/rrset/name/*.cap.example?limit=2", HTTP_X_API_KEY=query_token)
    assert RESULTS_MAX_HEADER not in reply and json.loads(body(reply).splitlines()[-1])["cond"] == "limited"
