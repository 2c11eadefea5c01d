"""Hostile values the old code answered with a 500: each now gets a 4xx that says what was wrong.

Every case here was an uncaught exception before (a test written first, then the fix): non-ASCII digits
taken by ``str.isdigit()``/``int()``, integers beyond 64 bits reaching the database driver, forged cursors
reaching SQL, and JSON nested deeper than the parser's recursion limit. The property-based sweep over every
parameter is ``test_hostile_properties.py``.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.server.conftest import auth
from yapdns.storage.base import BatchRef, Store
from yapdns.storage.query import encode_cursor

HUGE = "99999999999999999999"
FENCES = ("time_first_before", "time_first_after", "time_last_before", "time_last_after")
DEEP = "[" * 100_000 + "]" * 100_000
FORGED = [
    "k4GhYQGBoWICgaFjAw",  # three maps
    encode_cursor((2**64 - 1, 1, "x")),
    encode_cursor((-(2**63), 1)),
    encode_cursor(([1, 2], [3])),
    encode_cursor(("com.example.", 2**64 - 1, "x")),
    encode_cursor(("com.example.", 1, "a\x00b")),
    encode_cursor((None, None, None)),
    encode_cursor((b"\x00" * 40, 1)),
    encode_cursor((1.5, True, "x")),
    encode_cursor(("x" * 100_000, 1, "y")),
]


@pytest.fixture
def loaded(store: Store) -> Store:
    from tests.server.query.test_views import obs

    store.write([obs(f"h{i}.example.com", "A", f"192.0.2.{i}") for i in range(1, 6)], BatchRef("s1", "load"))
    return store


def get(client: Client, token: str, url: str, **params: object):
    return client.get(url, params, **auth(token))


def assert_4xx(reply, *words: str) -> None:
    assert 400 <= reply.status_code < 500, (reply.status_code, reply.content[:300])
    text = reply.content.decode(errors="replace").lower()
    for word in words:
        assert word.lower() in text, (word, text[:300])


@pytest.mark.parametrize("url", ["/api/v1/records", "/api/v1/rrsets", "/api/v1/negatives", "/api/v1/qnames"])
@pytest.mark.parametrize("fence", FENCES)
@pytest.mark.parametrize("value", [HUGE, "-" + HUGE, "\u0663", "1_000"])
def test_own_api_fences_out_of_range_or_not_ascii(
    client: Client, loaded: Store, query_token: str, url: str, fence: str, value: str
) -> None:
    assert_4xx(get(client, query_token, url, rrname="*.example.com", **{fence: value}), fence)


@pytest.mark.parametrize("url", ["/api/v1/records", "/api/v1/rrsets", "/api/v1/negatives", "/api/v1/qnames"])
@pytest.mark.parametrize("cursor", FORGED)
def test_own_api_forged_cursors(client: Client, loaded: Store, query_token: str, url: str, cursor: str) -> None:
    assert_4xx(get(client, query_token, url, rrname="*.example.com", cursor=cursor), "cursor")


@pytest.mark.parametrize("cursor", FORGED)
def test_own_api_forged_cursors_of_every_key(client: Client, loaded: Store, query_token: str, cursor: str) -> None:
    for key in ({"q": "h1.example.com"}, {"q": "192.0.2.0/24"}, {"q": "192.0.2.1"}, {"rdata_name": "*.example"},
                {"rdata": "x", "type": "TXT"}, {"rdata": "192.0.2.1", "type": "A"}, {"q": "example.*"},
                {"sample": "ab" * 32}):
        assert_4xx(get(client, query_token, "/api/v1/records", cursor=cursor, **key), "cursor")


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "A,\u00b2", "\u017foa"])
def test_own_api_types_must_be_ascii(client: Client, loaded: Store, query_token: str, value: str) -> None:
    assert_4xx(get(client, query_token, "/api/v1/records", q="h1.example.com", type=value), "rrtype")
    assert_4xx(get(client, query_token, "/api/v1/record", rrname="h1.example.com", rrtype=value, rdata="192.0.2.1"))


@pytest.mark.parametrize("value", ["\u0663", HUGE + HUGE, "1_0", "+1"])
def test_own_api_limit(client: Client, loaded: Store, query_token: str, value: str) -> None:
    reply = get(client, query_token, "/api/v1/records", q="h1.example.com", limit=value)
    if value.startswith(HUGE):  # a huge limit is the maximum, as documented
        assert reply.status_code == 200
    else:
        assert_4xx(reply, "limit")


@pytest.mark.parametrize("path", [
    "/dnsdb/v2/lookup/rrset/name/a.example/%C2%B2",
    "/dnsdb/v2/lookup/rrset/name/a.example/%D9%A3",
    "/dnsdb/v2/lookup/rdata/name/a.example/%C2%B2",
    "/dnsdb/v2/summarize/rrset/name/a.example/%C5%BFoa",
    *(f"/dnsdb/v2/lookup/rrset/name/a.example?{f}={HUGE}" for f in FENCES),
    *(f"/dnsdb/v2/lookup/rdata/ip/192.0.2.1?{f}=-{HUGE}" for f in FENCES),
    *(f"/dnsdb/v2/regex/rrnames/a?{f}={HUGE}" for f in FENCES),
    "/dnsdb/v2/lookup/rrset/name/a.example?limit=%D9%A3",
    "/dnsdb/v2/lookup/rrset/name/a.example?offset=%D9%A3",
    f"/dnsdb/v2/summarize/rrset/name/a.example?max_count={HUGE}{HUGE}{HUGE}",
])
def test_dnsdb_hostile_components_and_parameters(client: Client, loaded: Store, query_token: str, path: str) -> None:
    reply = client.get(path, HTTP_X_API_KEY=query_token)
    assert_4xx(reply, "Error")


@pytest.mark.parametrize("headers", [
    {"HTTP_DRIBBLE_PAGINATE_COUNT": "\u0663"},
    {"HTTP_DRIBBLE_PAGINATE_COUNT": HUGE * 300},
    {"HTTP_DRIBBLE_PAGINATE_CURSOR": "\u0661\u0662"},
    {"HTTP_DRIBBLE_PAGINATE_CURSOR": HUGE * 300},
    *({"HTTP_DRIBBLE_PAGINATE_CURSOR": str(int.from_bytes(b"\x01" + c.encode(), "big"))} for c in FORGED[:-1]),
])
def test_circl_hostile_paging_headers(client: Client, loaded: Store, query_token: str, headers: dict[str, str]) -> None:
    reply = client.get("/pdns/query/h1.example.com", **auth(query_token), **headers)
    assert_4xx(reply, "Error", "dribble" if "HTTP_DRIBBLE_PAGINATE_COUNT" in headers else "cursor")


@pytest.mark.parametrize("body", [
    DEEP,
    '{"queries": ' + DEEP + "}",
    '{"queries": ["a.example"], "extra": ' + DEEP + "}",
    '{"queries": "a.example"}',
    '{"queries": [1, 2]}',
    '{"queries": ["a.example"], "limit": "ten"}',
    '{"queries": ["a.example"], "limit": -1}',
    '{"queries": ["a.example"], "querys": []}',
    '{"queries": ["a.example"], "time_first_after": ' + HUGE + "}",
    '{"queries": ["a.example"], "time_first_after": -' + HUGE + "}",
    '{"queries": ["a.example"], "type": "\u00b2"}',
    '{"queries": ["a.example"], "evidence": "x"}',
    "[]",
    "null",
])
def test_bulk_hostile_bodies(client: Client, loaded: Store, query_token: str, body: str) -> None:
    reply = client.post("/api/v1/bulk", body, content_type="application/json", **auth(query_token))
    assert_4xx(reply)
    assert json.loads(reply.content)["error"]


@pytest.mark.parametrize("url", ["/api/v1/sensors", "/api/v1/tokens"])
@pytest.mark.parametrize("body", [DEEP, '{"name": ' + DEEP + "}", '{"name": "x", "y": ' + DEEP + "}", "[1]", '{"name": 5}',
                                  '{"name": "a\\u0000b"}', '{"name": "' + "x" * 10_000 + '"}', "\xff"])
def test_management_hostile_bodies(client: Client, loaded: Store, url: str, body: str) -> None:
    from tests.server.conftest import make_user
    from yapdns.server.accounts.services import create_query_token

    admin = make_user("root-user", "admin")
    token = create_query_token(admin, "t")[1]
    reply = client.post(url, body.encode("utf-8", "surrogateescape") if body != "\xff" else b"\xff",
                        content_type="application/json", **auth(token))
    assert_4xx(reply)
    assert json.loads(reply.content)["error"]
