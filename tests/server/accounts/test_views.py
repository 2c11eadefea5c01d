"""The query tokens API: ``/api/v1/tokens`` (a user's own tokens) and ``/api/v1/tokens/<id>/revoke``."""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from django.test import Client

from tests.server.conftest import auth, make_user
from yapdns.server.accounts.models import ApiToken
from yapdns.server.accounts.services import create_query_token
from yapdns.server.tokens import digest
from yapdns.storage.base import Store

URL = "/api/v1/tokens"


def test_a_user_creates_a_token_shown_once_that_then_queries(client: Client, store: Store, query_token: str) -> None:
    reply = client.post(URL, json.dumps({"name": "dnsdbq"}), content_type="application/json", **auth(query_token))
    assert reply.status_code == 201
    body = reply.json()
    new = body["token"]
    assert new.startswith("yq_") and ApiToken.objects.get(pk=body["id"]).digest == digest(new)
    listed = client.get(URL, **auth(new)).json()["tokens"]
    assert {t["name"] for t in listed} == {"tests", "dnsdbq"} and new not in json.dumps(listed)
    assert client.get("/api/v1/records", {"q": "example.com"}, **auth(new)).status_code == 200


def test_a_user_sees_and_revokes_only_their_own_tokens(client: Client, store: Store, query_token: str) -> None:
    other_row, other = create_query_token(make_user("other", "read-only"), "theirs")
    mine = client.get(URL, **auth(query_token)).json()["tokens"]
    assert [t["name"] for t in mine] == ["tests"]
    assert client.post(f"{URL}/{other_row.pk}/revoke", **auth(query_token)).status_code == 404
    assert client.get(URL, **auth(other)).status_code == 200  # still works
    own = mine[0]["id"]
    revoked = client.post(f"{URL}/{own}/revoke", **auth(query_token))
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert client.get(URL, **auth(query_token)).status_code == 401


def test_sessions_need_csrf_and_sensors_no_tokens(
    store: Store, analyst: User, sensor_token: str, client: Client
) -> None:
    session = Client(enforce_csrf_checks=True)
    session.force_login(analyst)
    assert session.get(URL).status_code == 200
    assert session.post(URL, "{}", content_type="application/json").status_code == 403  # no CSRF token
    assert client.get(URL, **auth(sensor_token)).status_code == 403
    assert client.post(URL, b"not json", content_type="application/json", **auth(sensor_token)).status_code == 403
