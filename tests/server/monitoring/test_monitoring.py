"""The monitoring app in process: /metrics access and figures, readiness, request ids and JSON log lines."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from tests.server.conftest import auth
from tests.server.ingest.test_views import GOOD, ndjson, post
from yapdns.core.logformat import JsonFormatter
from yapdns.server.monitoring import logs
from yapdns.server.monitoring.middleware import family_of
from yapdns.server.store import get_store, reset_store
from yapdns.storage.base import Store

TOKEN = "metrics-secret-1"


def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    reply = client.get("/metrics", **auth(TOKEN))
    assert reply.status_code == 200, reply.content
    assert reply["Content-Type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(reply.content.decode())
        for s in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_refuse_every_caller_without_the_token_setting(client: Client, store: Store) -> None:
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", **auth(TOKEN)).status_code == 403


@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_need_the_token(client: Client, store: Store) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", **auth("wrong")).status_code == 401
    assert client.post("/metrics", **auth(TOKEN)).status_code == 405


@override_settings(METRICS_TOKEN=TOKEN)
def test_ingest_figures_move_by_what_was_sent(client: Client, store: Store, sensor_token: str) -> None:
    before = scrape(client)
    bad = {**GOOD, "rrname": "bad..name"}
    body = ndjson(GOOD, bad, bad)
    assert post(client, sensor_token, body, batch="m-1").status_code == 200
    assert post(client, sensor_token, body, batch="m-1").json()["replayed"] is True
    assert post(client, sensor_token, b"{not json\n", batch="m-2").status_code == 400
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("yapdns_ingest_batches_total", outcome="applied") == 1
    assert delta("yapdns_ingest_batches_total", outcome="replayed") == 1
    assert delta("yapdns_ingest_batches_total", outcome="refused") == 1
    assert delta("yapdns_ingest_observations_total") == 1
    assert delta("yapdns_ingest_rejects_total", reason="bad_name") == 2
    assert delta("yapdns_ingest_received_bytes_total") == 2 * len(body) + len(b"{not json\n")
    assert delta("yapdns_http_requests_total", family="ingest", status="2xx") == 2
    assert delta("yapdns_http_request_duration_seconds_count", family="ingest") == 3
    assert delta("yapdns_writer_group_apply_seconds_count", writer="sqlite-writer") >= 1
    assert delta("yapdns_writer_observations_total", writer="sqlite-writer") == 2  # the replay reached it too
    assert value(after, "yapdns_store_rows", kind="records") == 2  # GOOD has two RRs
    assert value(after, "yapdns_store_up") == 1
    assert value(after, "yapdns_store_size_bytes") > 0


@override_settings(METRICS_TOKEN=TOKEN)
def test_queries_are_counted_by_shape(client: Client, store: Store, query_token: str) -> None:
    before = scrape(client)
    for q in ("www.example.com", "*.example.com", "www.example.*", "192.0.2.0/24"):
        assert client.get("/api/v1/records", {"q": q}, **auth(query_token)).status_code == 200
    after = scrape(client)
    for shape in ("exact_name", "left_wildcard", "right_wildcard", "ip"):
        key = ("yapdns_queries_total", (("api", "api"), ("shape", shape)))
        assert after[key] - before.get(key, 0) == 1, shape


@override_settings(METRICS_TOKEN=TOKEN)
def test_login_failures_are_counted(client: Client, store: Store) -> None:
    before = value(scrape(client), "yapdns_login_failures_total")
    client.post("/login/", {"username": "nobody", "password": "wrong password"})
    assert value(scrape(client), "yapdns_login_failures_total") == before + 1


def test_ready_when_migrated_and_not_before(client: Client, store: Store) -> None:
    assert client.get("/api/v1/ready").json() == {"status": "ready"}
    reset_store()
    (get_store().path).unlink()  # type: ignore[attr-defined]  # a new, empty store file: nothing migrated
    reply = client.get("/api/v1/ready")
    assert reply.status_code == 503
    assert "record store migrations pending" in reply.json()["problems"][0]
    reset_store()


def test_request_ids_are_echoed_or_made(client: Client, store: Store) -> None:
    assert client.get("/api/v1/health", HTTP_X_REQUEST_ID="abc-123")["X-Request-Id"] == "abc-123"
    made = client.get("/api/v1/health", HTTP_X_REQUEST_ID="<script>")["X-Request-Id"]
    assert made != "<script>" and len(made) == 32


@pytest.mark.parametrize(("path", "family"), [("/api/v1/ingest", "ingest"), ("/api/v1/records", "api"),
                                              ("/dnsdb/v2/ping", "dnsdb"), ("/pdns/query/x", "circl"),
                                              ("/search/", "dashboard"), ("/api/v1/ready", "health")])
def test_families(path: str, family: str) -> None:
    assert family_of(path) == family


def test_json_lines_carry_the_request_context() -> None:
    record = logging.makeLogRecord({"name": "yapdns.x", "levelno": 20, "levelname": "INFO", "msg": "hi %s",
                                    "args": ("there",)})
    tokens = logs.REQUEST_ID.set("r1"), logs.SENSOR.set("dc1"), logs.BATCH_ID.set("b9")
    try:
        logs.RequestContextFilter().filter(record)
    finally:
        logs.REQUEST_ID.reset(tokens[0]), logs.SENSOR.reset(tokens[1]), logs.BATCH_ID.reset(tokens[2])
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["request_id"], line["sensor"], line["batch_id"]) == ("hi there", "r1", "dc1", "b9")
    assert line["level"] == "info" and line["time"].endswith("+00:00")


@pytest.mark.parametrize(("listen", "warned"), [("", False), ("127.0.0.1:9464", False), ("[::1]:9464", False),
                                                ("9464", False), ("0.0.0.0:9464", True), ("pdns.example.org:9464", True)])
def test_check_deploy_warns_of_a_metrics_listener_beyond_loopback(
    monkeypatch: pytest.MonkeyPatch, listen: str, warned: bool
) -> None:
    from yapdns.server.deploy_checks import metrics_listener_on_loopback

    monkeypatch.setenv("YAPDNS_METRICS_LISTEN", listen)
    assert [w.id for w in metrics_listener_on_loopback()] == (["yapdns.W013"] if warned else [])


def test_an_uncaught_error_stays_a_500_unless_the_database_is_read_only() -> None:
    """``handler500``: only PostgreSQL's read_only_sql_transaction (25006), however wrapped, becomes a 503."""
    import psycopg
    from django.db import InternalError
    from django.test import RequestFactory

    from yapdns.server.readonly import server_error

    request = RequestFactory().get("/api/v1/records")
    for raised, status in [(ValueError("boom"), 500), (psycopg.errors.ReadOnlySqlTransaction("ro"), 503)]:
        try:
            try:
                raise raised
            except Exception as exc:
                raise InternalError(str(exc)) from exc
        except InternalError:
            response = server_error(request)
        assert response.status_code == status
    assert response["Retry-After"] == "60" and "takes no writes" in json.loads(response.content)["error"]
