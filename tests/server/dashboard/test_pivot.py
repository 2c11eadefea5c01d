"""The pivot graph's JSON endpoint: neighbours both ways, paging, time window, auth."""

from __future__ import annotations

from django.test import Client

from tests.server.conftest import auth
from tests.server.dashboard.conftest import NOW
from yapdns.server.accounts.services import create_query_token
from yapdns.storage.base import Store


def expand(client: Client, **params: str) -> dict[str, object]:
    reply = client.get("/api/v1/pivot", params)
    assert reply.status_code == 200, reply.content
    data: dict[str, object] = reply.json()
    return data


def node_ids(data: dict[str, object]) -> set[str]:
    return {n["id"] for n in data["nodes"]}  # type: ignore[attr-defined, index]


def test_a_name_expands_to_addresses_targets_and_names_pointing_in(loaded: Store, reader_client: Client) -> None:
    data = expand(reader_client, node="example.com")
    assert data["node"] == "n:example.com"
    assert {"ip:192.0.2.10", "ip:2001:db8:10::10", "n:ns1.example.net", "n:mail.example.com", "n:www.example.com"} <= (
        node_ids(data)
    )
    edges = {(e["source"], e["rrtype"], e["target"]) for e in data["edges"]}  # type: ignore[attr-defined, index]
    assert ("n:www.example.com", "CNAME", "n:example.com") in edges
    assert ("n:example.com", "MX", "n:mail.example.com") in edges
    assert data["skipped"] == 1  # the TXT record leads nowhere
    assert data["limited"] is False


def test_an_address_expands_to_its_names(loaded: Store, reader_client: Client) -> None:
    data = expand(reader_client, node="192.0.2.11")
    assert node_ids(data) == {"ip:192.0.2.11", "n:example.com", "n:login.example.com", "n:evil-login.example.org"}


def test_expansions_are_paged_with_cursors(loaded: Store, reader_client: Client) -> None:
    seen: set[str] = set()
    data = expand(reader_client, node="example.com", limit="2")
    pages = 1
    while True:
        seen |= {e["id"] for e in data["edges"]}  # type: ignore[attr-defined, index]
        more = data["more"]
        assert isinstance(more, dict)
        if not data["limited"]:
            break
        params = {"node": "example.com", "limit": "2"}
        params.update({f"cursor_{k}": v for k, v in more.items() if v})
        data = expand(reader_client, **params)
        pages += 1
    assert pages >= 4
    assert seen == {e["id"] for e in expand(reader_client, node="example.com")["edges"]}  # type: ignore[attr-defined, index]


def test_the_time_window_keeps_records_active_in_it(loaded: Store, reader_client: Client) -> None:
    import datetime as dt

    start = dt.datetime.fromtimestamp(NOW - 30 * 86400, dt.UTC).date().isoformat()
    data = expand(reader_client, node="example.com", **{"from": start})
    assert "ip:192.0.2.10" not in node_ids(data)  # last seen 90 days ago
    assert "ip:198.51.100.20" in node_ids(data)


def test_bad_nodes_and_anonymous_callers_are_refused(loaded: Store, reader_client: Client, client: Client) -> None:
    assert reader_client.get("/api/v1/pivot", {"node": "*.example.com"}).status_code == 400
    assert reader_client.get("/api/v1/pivot").status_code == 400
    assert client.get("/api/v1/pivot", {"node": "example.com"}).status_code == 401


def test_a_query_token_may_pivot(loaded: Store, client: Client) -> None:
    from tests.server.conftest import make_user

    token = create_query_token(make_user("bot", "read-only"), "pivot")[1]
    reply = client.get("/api/v1/pivot", {"node": "example.com"}, **auth(token))  # type: ignore[arg-type]
    assert reply.status_code == 200 and reply.json()["nodes"]
