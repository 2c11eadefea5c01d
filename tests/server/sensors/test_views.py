"""The sensors API: ``/api/v1/sensors`` (list, create) and ``/api/v1/sensors/<name>/revoke``, for managers only."""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from django.test import Client

from tests.server.conftest import auth, make_user
from yapdns.server.accounts.services import create_query_token
from yapdns.server.sensors.models import Sensor, SensorToken
from yapdns.server.tokens import digest
from yapdns.storage.base import Store

URL = "/api/v1/sensors"


def _post(client: Client, token: str, url: str, body: object) -> dict:  # type: ignore[type-arg]
    reply = client.post(url, json.dumps(body), content_type="application/json", **auth(token))
    return {"status": reply.status_code, **reply.json()}


def test_an_analyst_creates_a_sensor_and_sees_its_token_once(client: Client, store: Store, query_token: str) -> None:
    created = _post(client, query_token, URL, {"name": "dc1-resolver", "description": "DC 1"})
    assert created["status"] == 201 and created["sensor"]["name"] == "dc1-resolver"
    token = created["token"]
    row = SensorToken.objects.get(sensor__name="dc1-resolver")
    assert row.digest == digest(token) and token not in json.dumps(created["sensor"])  # stored hashed, shown once
    listed = client.get(URL, **auth(query_token)).json()["sensors"]
    assert [s["name"] for s in listed] == ["dc1-resolver"] and token not in json.dumps(listed)
    assert listed[0]["tokens"][0]["prefix"] == row.prefix and listed[0]["active"]


def test_bad_and_duplicate_names_are_400(client: Client, store: Store, query_token: str) -> None:
    assert _post(client, query_token, URL, {"name": "-bad name"})["status"] == 400
    assert _post(client, query_token, URL, {"name": "ok"})["status"] == 201
    again = _post(client, query_token, URL, {"name": "ok"})
    assert again["status"] == 400 and "exists already" in again["error"]
    assert _post(client, query_token, URL, {"nom": "x"})["status"] == 400
    assert Sensor.objects.count() == 1


def test_revoking_a_sensor_revokes_its_tokens(client: Client, store: Store, query_token: str) -> None:
    ingest_token = _post(client, query_token, URL, {"name": "s1"})["token"]
    revoked = _post(client, query_token, f"{URL}/s1/revoke", {})
    assert revoked["status"] == 200 and revoked["sensor"]["active"] is False
    assert not SensorToken.objects.filter(revoked_at__isnull=True).exists()
    refused = client.post("/api/v1/ingest", b"", content_type="application/x-ndjson", **auth(ingest_token))
    assert refused.status_code == 401
    assert _post(client, query_token, f"{URL}/nobody/revoke", {})["status"] == 404


def test_read_only_users_and_sensor_tokens_may_not_manage(
    client: Client, store: Store, sensor_token: str, analyst: User
) -> None:
    reader = create_query_token(make_user("reader", "read-only"), "t")[1]
    assert client.get(URL, **auth(reader)).status_code == 403
    assert _post(client, reader, URL, {"name": "x"})["status"] == 403
    assert client.get(URL, **auth(sensor_token)).status_code == 403
    assert client.get(URL).status_code == 401
