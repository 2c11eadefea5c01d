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
