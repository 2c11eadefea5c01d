"""`yapdns serve` for real: gunicorn over HTTP and HTTPS, ingest then query through the network."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer

OBS = {"rrname": "www.example.com", "rrtype": "A", "rdata": ["192.0.2.1"], "time_first": 1700000000,
       "time_last": 1700000100, "count": 2}


def self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_ingest_and_query_over_the_network(tmp_path: Path, tls: bool) -> None:
    with LiveServer(tmp_path / "data", tls=self_signed(tmp_path) if tls else None) as server:
        sensor, query = server.sensor_token(), server.query_token()
        with httpx.Client(base_url=server.url, verify=False, timeout=10) as http:
            body = gzip.compress(json.dumps(OBS).encode() + b"\n")
            headers = {"Authorization": f"Bearer {sensor}", "Content-Type": "application/x-ndjson",
                       "Content-Encoding": "gzip", "X-Batch-Id": "live-1"}
            assert http.post("/api/v1/ingest", content=body, headers=headers).json()["accepted"] == 1
            assert http.post("/api/v1/ingest", content=body, headers=headers).json()["replayed"] is True
            reply = http.get("/api/v1/records", params={"q": "192.0.2.1"}, headers={"Authorization": f"Bearer {query}"})
            assert [r["count"] for r in reply.json()["records"]] == [2]
            assert ("Strict-Transport-Security" in reply.headers) == tls
            assert http.get("/api/v1/records", params={"q": "x"}).status_code == 401


def test_a_chunked_upload_is_read_whole_within_the_size_limit(tmp_path: Path) -> None:
    """Under the real gunicorn server: a body sent with Transfer-Encoding: chunked (no Content-Length)."""
    line = json.dumps(OBS).encode() + b"\n"

    def chunks(body: bytes):  # a generator body: httpx sends it chunked
        yield from (body[i : i + 7] for i in range(0, len(body), 7))

    with LiveServer(tmp_path / "data", extra_env={"YAPDNS_MAX_INGEST_BYTES": "1000"}, access_log=False) as server:
        sensor, query = server.sensor_token(), server.query_token()
        headers = {"Authorization": f"Bearer {sensor}", "Content-Type": "application/x-ndjson", "X-Batch-Id": "c1"}
        with httpx.Client(base_url=server.url, timeout=10) as http:
            reply = http.post("/api/v1/ingest", content=chunks(line), headers=headers)
            assert reply.request.headers.get("Transfer-Encoding") == "chunked"
            assert "Content-Length" not in reply.request.headers
            assert (reply.status_code, reply.json()["accepted"], reply.json()["replayed"]) == (200, 1, False)
            again = http.post("/api/v1/ingest", content=line, headers=headers)  # the same id, Content-Length
            assert again.json()["replayed"] is True
            gz = http.post("/api/v1/ingest", content=chunks(gzip.compress(line)),
                           headers={**headers, "X-Batch-Id": "c2", "Content-Encoding": "gzip"})
            assert gz.json()["accepted"] == 1
            empty = http.post("/api/v1/ingest", content=chunks(b""), headers={**headers, "X-Batch-Id": "c3"})
            assert empty.status_code == 400
            records = http.get("/api/v1/records", params={"q": "192.0.2.1"}, headers={"Authorization": f"Bearer {query}"})
            assert [r["count"] for r in records.json()["records"]] == [4]
        curl = subprocess.run(
            ["curl", "-sS", "-H", "Transfer-Encoding: chunked", "-H", f"Authorization: Bearer {sensor}",
             "-H", "Content-Type: application/x-ndjson", "-H", "X-Batch-Id: c4", "--data-binary", "@-",
             server.url + "/api/v1/ingest"],
            input=line, capture_output=True, check=True, timeout=30,
        )
        assert json.loads(curl.stdout)["accepted"] == 1
        big = httpx.post(server.url + "/api/v1/ingest", content=iter([line] * 20), headers=headers, timeout=10)
        assert big.status_code == 413 and "1000 bytes" in big.json()["error"]  # the limit holds for chunked too

