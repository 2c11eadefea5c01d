"""The ingest API: authentication, per-record accept/reject, replays, sizes, encodings."""

from __future__ import annotations

import gzip
import json

import pytest
from django.test import Client, override_settings

from tests.server.conftest import auth
from yapdns.server.sensors.models import Sensor, SensorToken
from yapdns.storage.base import Store
from yapdns.storage.query import NameMatch, RecordQuery

URL = "/api/v1/ingest"
GOOD = {"rrname": "www.Example.com.", "rrtype": "A", "rdata": ["192.0.2.1", "192.0.2.2"],
        "time_first": 1700000000, "time_last": 1700000100, "count": 3, "ttl": 300}


def ndjson(*objs: object) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objs)


def post(client: Client, token: str, body: bytes, batch: str | None = "b-1", **headers: str):
    content_type = headers.pop("content_type", "application/x-ndjson")
    extra = {**auth(token), **headers}
    if batch:
        extra["HTTP_X_BATCH_ID"] = batch
    return client.post(URL, body, content_type=content_type, **extra)


def counts(store: Store, name: str = "www.example.com") -> dict[str, int]:
    rows = store.records(RecordQuery(rrname=NameMatch.parse(name))).rows
    return {r.rdata: r.count for r in rows}


def test_accepts_good_records_and_rejects_bad_ones_with_reasons(client: Client, store: Store, sensor_token: str) -> None:
    bad_name = {**GOOD, "rrname": "bad..name"}
    bad_ip = {**GOOD, "rdata": "999.1.1.1"}
    reply = post(client, sensor_token, ndjson(GOOD, bad_name, bad_ip))
    assert reply.status_code == 200
    body = reply.json()
    assert (body["accepted"], body["rejected"], body["replayed"]) == (1, 2, False)
    assert [(r["line"], r["code"]) for r in body["rejects"]] == [(2, "bad_name"), (3, "bad_rdata")]
    assert counts(store) == {"192.0.2.1": 3, "192.0.2.2": 3}


def test_a_promise_of_canonical_records_is_checked_not_trusted(client: Client, store: Store, sensor_token: str) -> None:
    unsorted = {**GOOD, "rdata": ["192.0.2.2", "192.0.2.1", "192.0.2.2"]}
    canonical = {**GOOD, "rrname": "www.example.com", "rdata": "192.0.2.3"}
    bad = {**GOOD, "rdata": "192.0.2.01"}
    reply = post(client, sensor_token, ndjson(GOOD, unsorted, canonical, bad), HTTP_X_CANONICAL="1").json()
    assert (reply["accepted"], reply["rejected"]) == (3, 1)
    assert counts(store) == {"192.0.2.1": 6, "192.0.2.2": 6, "192.0.2.3": 3}  # normalized as without the promise


def test_a_replayed_batch_id_is_acknowledged_and_not_applied_twice(client: Client, store: Store, sensor_token: str) -> None:
    first = post(client, sensor_token, ndjson(GOOD), batch="same").json()
    again = post(client, sensor_token, ndjson(GOOD), batch="same").json()
    other = post(client, sensor_token, ndjson(GOOD), batch="other").json()
    assert (first["replayed"], again["replayed"], other["replayed"]) == (False, True, False)
    assert again["accepted"] == first["accepted"] == 1
    assert counts(store) == {"192.0.2.1": 6, "192.0.2.2": 6}
    sensor = Sensor.objects.get(name="sensor-1")
    assert (sensor.batches_total, sensor.replayed_total, sensor.accepted_total) == (3, 1, 2)


def test_gzip_and_json_envelope(client: Client, store: Store, sensor_token: str) -> None:
    envelope = json.dumps({"batch_id": "env-1", "observations": [GOOD]}).encode()
    reply = client.post(URL, gzip.compress(envelope), content_type="application/json",
                        HTTP_CONTENT_ENCODING="gzip", **auth(sensor_token))
    assert reply.status_code == 200, reply.content
    assert reply.json()["batch_id"] == "env-1"
    assert counts(store) == {"192.0.2.1": 3, "192.0.2.2": 3}


def test_malformed_input_is_400_with_the_line_and_applies_nothing(client: Client, store: Store, sensor_token: str) -> None:
    reply = post(client, sensor_token, ndjson(GOOD) + b"{not json\n")
    assert reply.status_code == 400
    assert reply.json()["line"] == 2
    assert counts(store) == {}


def test_bad_gzip_is_400(client: Client, store: Store, sensor_token: str) -> None:
    reply = post(client, sensor_token, b"not gzip at all", HTTP_CONTENT_ENCODING="gzip")
    assert reply.status_code == 400
    assert "gzip" in reply.json()["error"]


def test_a_cut_upload_is_refused_and_does_not_spend_its_batch_id(
    client: Client, store: Store, sensor_token: str
) -> None:
    body = gzip.compress(ndjson(GOOD))
    for cut in (b"", body[:10], body[:-4]):  # nothing, the gzip header only, all but the trailer
        assert post(client, sensor_token, cut, batch="cut", HTTP_CONTENT_ENCODING="gzip").status_code == 400
    full = post(client, sensor_token, body, batch="cut", HTTP_CONTENT_ENCODING="gzip")
    assert full.status_code == 200 and full.json()["replayed"] is False and full.json()["accepted"] == 1
    assert counts(store) == {"192.0.2.1": 3, "192.0.2.2": 3}


@override_settings(MAX_INGEST_BYTES=200)
def test_too_large_is_413_with_a_clear_message(client: Client, store: Store, sensor_token: str) -> None:
    reply = post(client, sensor_token, ndjson(*[GOOD] * 5))
    assert reply.status_code == 413
    assert "exceeds 200 bytes" in reply.json()["error"]


def test_bad_missing_and_wrong_kind_of_tokens(client: Client, store: Store, sensor_token: str, query_token: str) -> None:
    assert post(client, "ys_not-a-real-token", ndjson(GOOD)).status_code == 401
    assert client.post(URL, ndjson(GOOD), content_type="application/x-ndjson").status_code == 401
    assert post(client, query_token, ndjson(GOOD)).status_code == 403
    assert client.get(URL, **auth(sensor_token)).status_code == 405


def test_revoked_sensor_tokens_stop_working(client: Client, store: Store, sensor_token: str) -> None:
    from yapdns.server.sensors.services import revoke_sensor

    revoke_sensor("sensor-1")
    assert post(client, sensor_token, ndjson(GOOD)).status_code == 401


def test_tokens_are_stored_only_as_digests(store: Store, sensor_token: str) -> None:
    row = SensorToken.objects.get()
    assert sensor_token not in (row.digest, row.prefix)
    assert len(row.digest) == 64 and sensor_token.startswith(row.prefix)


def test_observation_sensor_ids_become_sub_sensors(client: Client, store: Store, sensor_token: str) -> None:
    post(client, sensor_token, ndjson({**GOOD, "sensor_id": "bind-a"}, {**GOOD, "rrname": "x.example.com"}))
    provs = {p.sensor_id for p in store.provenance("www.example.com", "A", "192.0.2.1")}
    assert provs == {"sensor-1/bind-a"}
    assert {p.sensor_id for p in store.provenance("x.example.com", "A", "192.0.2.1")} == {"sensor-1"}


@pytest.mark.parametrize("junk", [b"\x00\xff\xfe binary", b"[1,2,3]\n", b"\n\n"])
def test_junk_never_crashes(client: Client, store: Store, sensor_token: str, junk: bytes) -> None:
    reply = post(client, sensor_token, junk)
    assert reply.status_code in (200, 400)


def test_every_gzip_member_is_decoded(client: Client, store: Store, sensor_token: str) -> None:
    other = {**GOOD, "rrname": "two.example.com"}
    body = gzip.compress(ndjson(GOOD)) + gzip.compress(ndjson(other))  # `cat a.gz b.gz`
    reply = post(client, sensor_token, body, HTTP_CONTENT_ENCODING="gzip")
    assert reply.status_code == 200 and reply.json()["accepted"] == 2, reply.content
    assert counts(store, "two.example.com") == {"192.0.2.1": 3, "192.0.2.2": 3}


@pytest.mark.parametrize("tail", [b"garbage", b"\x1f\x8b", b"\x00" * 8])
def test_trailing_bytes_after_the_last_gzip_member_are_400(
    client: Client, store: Store, sensor_token: str, tail: bytes
) -> None:
    reply = post(client, sensor_token, gzip.compress(ndjson(GOOD)) + tail, batch="tail", HTTP_CONTENT_ENCODING="gzip")
    assert reply.status_code == 400, reply.content
    assert "gzip" in reply.json()["error"]
    assert post(client, sensor_token, ndjson(GOOD), batch="tail").json()["replayed"] is False


def test_an_over_long_batch_id_is_refused_never_cut(client: Client, store: Store, sensor_token: str) -> None:
    base = "x" * 128
    for suffix in ("-a", "-b"):  # two ids equal in their first 128 characters
        reply = post(client, sensor_token, ndjson(GOOD), batch=base + suffix)
        assert reply.status_code == 400, reply.content
        assert "X-Batch-Id" in reply.json()["error"] and "128" in reply.json()["error"]
    envelope = json.dumps({"batch_id": base + "-c", "observations": [GOOD]}).encode()
    assert post(client, sensor_token, envelope, batch=None, content_type="application/json").status_code == 400
    assert post(client, sensor_token, ndjson(GOOD), batch=base).json()["accepted"] == 1
    assert counts(store) == {"192.0.2.1": 3, "192.0.2.2": 3}


@pytest.mark.parametrize("bad_id", ["a\tb", "a\x7fb", "a\x1bb"])
def test_a_batch_id_with_control_characters_is_refused(
    client: Client, store: Store, sensor_token: str, bad_id: str
) -> None:
    envelope = json.dumps({"batch_id": bad_id, "observations": [GOOD]}).encode()
    reply = post(client, sensor_token, envelope, batch=None, content_type="application/json")
    assert reply.status_code == 400 and "control" in reply.json()["error"], reply.content
    assert counts(store) == {}


@pytest.mark.parametrize("body", [b"", b"\n\n  \n", b"[]", b'{"observations": []}'])
def test_an_empty_batch_does_not_spend_its_id(client: Client, store: Store, sensor_token: str, body: bytes) -> None:
    reply = post(client, sensor_token, body, batch="empty", content_type="")
    assert reply.status_code == 400 and "no records" in reply.json()["error"], reply.content
    assert post(client, sensor_token, ndjson(GOOD), batch="empty").json()["replayed"] is False


def test_counts_above_the_per_observation_maximum_are_that_records_reject(
    client: Client, store: Store, sensor_token: str
) -> None:
    from yapdns.core.normalize import MAX_COUNT

    huge = {**GOOD, "rrname": "huge.example.com", "count": MAX_COUNT + 1}
    reply = post(client, sensor_token, ndjson(GOOD, huge, {**GOOD, "count": 2**62}))
    assert reply.status_code == 200, reply.content
    assert (reply.json()["accepted"], [r["code"] for r in reply.json()["rejects"]]) == (1, ["bad_value"] * 2)
    edge = post(client, sensor_token, ndjson({**huge, "count": MAX_COUNT}), batch="edge")
    assert edge.json()["accepted"] == 1
    assert counts(store, "huge.example.com") == {"192.0.2.1": MAX_COUNT, "192.0.2.2": MAX_COUNT}


@pytest.mark.parametrize("rrtype", ["\u00b2", "\u0663", "\uff13", "\u017foa", "TYPE\u0663", "1_0", "+1"])
def test_rrtypes_must_be_ascii(client: Client, store: Store, sensor_token: str, rrtype: str) -> None:
    reply = post(client, sensor_token, ndjson(GOOD, {**GOOD, "rrtype": rrtype, "rdata": "x.example.com."}))
    assert reply.status_code == 200, reply.content
    assert reply.json()["accepted"] == 1
    assert [r["code"] for r in reply.json()["rejects"]] == ["bad_rrtype"]


@pytest.mark.parametrize("content_type", ["application/x-ndjson", "application/json"])
@pytest.mark.parametrize("where", ["record", "field", "envelope"])
def test_deeply_nested_json_is_refused_not_a_crash(
    client: Client, store: Store, sensor_token: str, content_type: str, where: str
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    doc = {"record": deep, "field": '{"rrname": ' + deep + "}", "envelope": '{"observations": [' + deep + "]}"}[where]
    body = doc if content_type.endswith("ndjson") else f"[{doc}]"
    reply = post(client, sensor_token, body.encode(), content_type=content_type)
    assert reply.status_code in (200, 400), reply.content
    if reply.status_code == 200:
        assert reply.json()["accepted"] == 0


def test_a_store_failure_a_retry_can_cure_is_503_any_other_is_500_and_counted(
    client: Client, store: Store, sensor_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yapdns.storage.base import StoreUnavailable

    def unavailable(*args: object, **kw: object) -> None:
        raise StoreUnavailable("SQLite: database is locked")

    monkeypatch.setattr(store, "write", unavailable)
    busy = post(client, sensor_token, ndjson(GOOD), batch="f1")
    assert (busy.status_code, busy["Retry-After"]) == (503, "5")

    def bug(*args: object, **kw: object) -> None:
        raise TypeError("a bug in the writer")

    monkeypatch.setattr(store, "write", bug)
    failed = post(client, sensor_token, ndjson(GOOD), batch="f1")
    assert failed.status_code == 500 and failed.json()["retryable"] is False
    assert "TypeError" in failed.json()["error"] and "retry would fail" in failed.json()["error"]
    monkeypatch.undo()
    assert post(client, sensor_token, ndjson(GOOD), batch="f1").json()["replayed"] is False  # the id was not spent
    post(client, sensor_token, b"{broken", batch="f2")
    sensor = Sensor.objects.get(name="sensor-1")
    assert (sensor.failed_total, sensor.refused_total, sensor.batches_total) == (1, 1, 1)
