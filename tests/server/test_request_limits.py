"""One request's cost is bounded by what the limits allow, whatever the request holds.

Costs are counted, never timed: records decoded, bytes inflated, rows read from the store. Each attack of
issue 13 is here in small: millions of bad records in a small gzip body, a gzip bomb of blank lines, a bulk
request of thousands of wildcards.
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import pytest
from django.test import Client, override_settings

from tests.server.conftest import auth
from yapdns.core import batch as batch_module
from yapdns.storage.base import BatchRef, Store

URL = "/api/v1/ingest"
GOOD = {"rrname": "www.example.com", "rrtype": "A", "rdata": "192.0.2.1", "time_first": 1, "time_last": 2}


class Tally:
    """Counts calls of one function (and, for the inflater, the bytes it produced)."""

    def __init__(self) -> None:
        self.calls = 0
        self.bytes = 0


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> Tally:
    """How many records the ingest decoder looked at."""
    tally = Tally()
    real = batch_module._decode_one

    def counting(*args: Any) -> Any:
        tally.calls += 1
        return real(*args)

    monkeypatch.setattr(batch_module, "_decode_one", counting)
    return tally


@pytest.fixture
def inflated(monkeypatch: pytest.MonkeyPatch) -> Tally:
    """How many bytes gzip decompression produced."""
    tally = Tally()
    real = zlib.decompressobj

    class Counting:
        def __init__(self, *args: Any, **kw: Any) -> None:
            self._d = real(*args, **kw)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self._d.decompress(data, max_length)
            tally.bytes += len(out)
            return out

        def __getattr__(self, name: str) -> Any:
            return getattr(self._d, name)

    monkeypatch.setattr(batch_module.zlib, "decompressobj", Counting)
    return tally


def post(client: Client, token: str, body: bytes, batch: str, **headers: str):
    return client.post(URL, body, content_type="application/x-ndjson", HTTP_X_BATCH_ID=batch, **auth(token), **headers)


@override_settings(MAX_INGEST_RECORDS=1000)
def test_millions_of_bad_records_in_a_small_body_cost_nothing_to_decode(
    client: Client, store: Store, sensor_token: str, decoded: Tally
) -> None:
    body = gzip.compress(b'{"rrname":"a..b","rrtype":"A"}\n' * 1_000_000)
    assert len(body) < 100_000  # a small request ...
    reply = post(client, sensor_token, body, "many", HTTP_CONTENT_ENCODING="gzip")
    assert reply.status_code == 413 and "more than 1000" in reply.json()["error"]
    assert decoded.calls == 0  # ... refused before a single record is decoded
    ok = post(client, sensor_token, gzip.compress(json.dumps(GOOD).encode() * 1 + b"\n"), "many",
              HTTP_CONTENT_ENCODING="gzip")
    assert ok.json()["replayed"] is False  # the refused batch did not spend its id


@override_settings(MAX_INGEST_RECORDS=1000)
def test_a_batch_at_the_record_limit_is_decoded_whole(
    client: Client, store: Store, sensor_token: str, decoded: Tally
) -> None:
    body = b"".join(json.dumps({**GOOD, "rrname": f"h{i}.example.com"}).encode() + b"\n" for i in range(1000))
    assert post(client, sensor_token, body, "full").json()["accepted"] == 1000
    assert decoded.calls == 1000
    assert post(client, sensor_token, body + b"\n", "one-more-line").status_code == 413  # blank lines count


@override_settings(MAX_INGEST_DECOMPRESSED_BYTES=1 << 20)
def test_a_gzip_bomb_is_inflated_no_further_than_the_bound(
    client: Client, store: Store, sensor_token: str, inflated: Tally, decoded: Tally
) -> None:
    bomb = gzip.compress(b"x" * (64 << 20), compresslevel=9)  # 64 MiB in ~64 KiB
    reply = post(client, sensor_token, bomb, "bomb", HTTP_CONTENT_ENCODING="gzip")
    assert reply.status_code == 413 and "decompressed" in reply.json()["error"]
    assert inflated.bytes <= (1 << 20) + 1  # 1/64 of what the bomb holds
    assert decoded.calls == 0


@override_settings(MAX_INGEST_RECORDS=1000)
def test_a_bomb_of_blank_lines_stops_at_the_line_bound(
    client: Client, store: Store, sensor_token: str, inflated: Tally, decoded: Tally
) -> None:
    bomb = gzip.compress(b"\n" * (64 << 20), compresslevel=9)  # 64M blank lines
    reply = post(client, sensor_token, bomb, "blank", HTTP_CONTENT_ENCODING="gzip")
    assert reply.status_code == 413 and "more than 1000 lines" in reply.json()["error"]
    assert inflated.bytes <= batch_module._Inflater.STEP  # the first step of 1 MiB: 1/64 of the bomb
    assert decoded.calls == 0


@override_settings(REQUEST_TIME_BUDGET=0)
def test_decoding_stops_at_the_time_budget(client: Client, store: Store, sensor_token: str, decoded: Tally) -> None:
    body = b"".join(json.dumps({**GOOD, "rrname": f"h{i}.example.com"}).encode() + b"\n" for i in range(5000))
    reply = post(client, sensor_token, body, "slow")
    assert reply.status_code == 413 and "time budget" in reply.json()["error"]
    assert decoded.calls == batch_module.CHECK_EVERY  # the first check stops it
    assert store.stats().observations == 0


@pytest.fixture
def wide(store: Store) -> Store:
    """Many names under many zones: every wildcard below matches rows."""
    from tests.server.query.test_views import obs

    store.write([obs(f"h{i}.z{z}.example", "A", f"10.0.{z}.{i}") for z in range(50) for i in range(40)],
                BatchRef("s1", "wide"))
    return store


def bulk(client: Client, token: str, queries: list[str], **extra: object) -> list[dict[str, Any]]:
    reply = client.post("/api/v1/bulk", {"queries": queries, **extra}, content_type="application/json", **auth(token))
    assert reply.status_code == 200, reply.content
    return [json.loads(line) for line in b"".join(reply.streaming_content).splitlines()]


@pytest.fixture
def rows_read(wide: Store, monkeypatch: pytest.MonkeyPatch) -> Tally:
    """How many rows and pages bulk read from the store."""
    tally = Tally()
    real = wide.records

    def counting(query: Any) -> Any:
        page = real(query)
        tally.calls += 1
        tally.bytes += len(page.rows)
        return page

    monkeypatch.setattr(wide, "records", counting)
    return tally


@override_settings(BULK_MAX_ROWS=500)
def test_a_bulk_request_of_wildcards_reads_no_more_rows_than_the_bound(
    client: Client, wide: Store, query_token: str, rows_read: Tally
) -> None:
    queries = [f"*.z{z % 50}.example" for z in range(2000)]
    lines = bulk(client, query_token, queries, limit=100)
    assert rows_read.bytes == 500  # 2000 queries x 40 rows would be 80,000
    assert rows_read.calls == 13  # 12 full pages of 40 and one of 20; the rest never reach the store
    done = [ln for ln in lines if ln.get("done")]
    assert len(done) == 2000  # every query is answered, in order
    assert sum(1 for ln in done if "row limit" in ln.get("error", "")) == 2000 - 13


@override_settings(REQUEST_TIME_BUDGET=0)
def test_a_bulk_request_stops_querying_at_the_time_budget(
    client: Client, wide: Store, query_token: str, rows_read: Tally
) -> None:
    lines = bulk(client, query_token, [f"*.z{z}.example" for z in range(50)])
    assert rows_read.calls == 0
    assert all("time budget" in ln["error"] for ln in lines)


@override_settings(BULK_MAX_QUERIES=10)
def test_too_many_bulk_queries_is_413(client: Client, wide: Store, query_token: str, rows_read: Tally) -> None:
    reply = client.post("/api/v1/bulk", {"queries": ["a.example"] * 11}, content_type="application/json",
                        **auth(query_token))
    assert reply.status_code == 413 and "at most 10" in reply.json()["error"]
    assert rows_read.calls == 0
