"""End to end against a real ``yapdns serve``: report -> DNSDump v2 -> ``yapdns import`` -> query by sample,
and report -> direct post -> query, with the server down first and the disk queue drained by the next report."""

from __future__ import annotations

import json
import logging
import ssl
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.cuckoo.conftest import Framework, real_report
from tests.live import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[LiveServer, str, str]]:
    """A server not started yet (its port already chosen), with a sensor token and a query token."""
    srv = LiveServer(tmp_path / "server-data")
    srv.data_dir.mkdir()
    srv.cli("migrate")
    try:
        yield srv, srv.sensor_token("cape1"), srv.query_token("alice")
    finally:
        srv.stop()


def _get(srv: LiveServer, token: str, path: str) -> Any:
    request = urllib.request.Request(srv.url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _sha(task: int) -> str:
    return str(real_report(task)["target"]["file"]["sha256"])


def _records(srv: LiveServer, token: str, task: int) -> set[tuple[str, str, str]]:
    rows = _get(srv, token, f"/api/v1/records?sample={_sha(task)}")["records"]
    return {(r["rrname"], r["rrtype"], r["rdata"]) for r in rows}


@pytest.mark.parametrize("framework", ["capev2"], indirect=True)  # the layouts differ only in the import
def test_sandbox_evidence_is_queryable_by_sample(
    framework: Framework, server: tuple[LiveServer, str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    srv, sensor_token, query_token = server
    queue = tmp_path / "queue"
    post = {"url": srv.url, "token": sensor_token, "queue_dir": str(queue), "timeout": 5, "instance": "cape1"}

    # The server is down: task 7 is written to its file and queued, and the report run still succeeds.
    framework.run(real_report(7), tmp_path / "a7", {"id": 7}, output_dir=str(tmp_path / "tsv"), **post)
    assert len(list(queue.glob("*.ndjson.gz"))) == 1

    # The file path: report -> DNSDump v2 -> yapdns import (the agent's parser and ingest path).
    framework.run(real_report(8), tmp_path / "a8", {"id": 8}, output_dir=str(tmp_path / "tsv"), write_tsv=True)
    (tsv8,) = (tmp_path / "tsv").glob("cuckoo-task8-*.dnsdump2.tsv")
    srv.cli("import", "-F", "dnsdump2", "--sensor", "cape1-files", str(tsv8))

    srv.start()
    # A wrong token: the server answers 401, the batches stay queued and the warning says why.
    with caplog.at_level(logging.WARNING):
        framework.run(real_report(9), tmp_path / "a9", {"id": 9}, write_tsv=False, **{**post, "token": "wrong"})
    assert len(list(queue.glob("*.ndjson.gz"))) == 2
    assert any("check the sensor token" in r.getMessage() for r in caplog.records)
    # The next report drains the queue, oldest first and at most drain_max batches (task 7 of tasks 7 and 9),
    # and posts its own analysis (task 10).
    framework.run(real_report(10), tmp_path / "a10", {"id": 10}, write_tsv=False, drain_max=1, **post)
    assert [p.name.split("-")[2] for p in queue.glob("*.ndjson.gz")] == ["task9"]

    assert _records(srv, query_token, 7) == {
        ("upload.wikimedia.org", "A", "208.80.152.3"),
        ("meta.wikimedia.org", "A", "208.80.152.2"),
    }
    assert len(_records(srv, query_token, 8)) == 8
    assert _records(srv, query_token, 10) == {("zeek.example.net", "HINFO", '"INTEL-386" "Windows"')}

    detail = _get(srv, query_token, "/api/v1/record?rrname=upload.wikimedia.org&rrtype=A&rdata=208.80.152.3")
    assert [(s["sha256"], s["task_id"], s["count"]) for s in detail["samples"]] == [(_sha(7), "7", 1)]
    assert {(p["sensor_id"], p["evidence"], p["source"]) for p in detail["provenance"]} == {
        ("cape1", "indirect", "dnsdump2")
    }
    negatives = _get(srv, query_token, "/api/v1/negatives?rrname=upload.wikimedia.org.ncsa.uiuc.edu")["negatives"]
    assert [(n["rrtype"], n["rcode"]) for n in negatives] == [("AAAA", "NXDOMAIN")]

    # Reprocessing task 7 posts the same batch ids: acknowledged as replays, nothing counted twice.
    # The run also drains the rest of the queue: task 9, queued behind the 401.
    framework.run(real_report(7), tmp_path / "a7", {"id": 7}, write_tsv=False, **post)
    assert not list(queue.glob("*.ndjson.gz"))
    qnames = _get(srv, query_token, "/api/v1/qnames?rrname=flkr._domainkey.flickr.com")["qnames"]
    assert [(q["rrtype"], q["count"]) for q in qnames] == [("TXT", 1)]
    again = _get(srv, query_token, "/api/v1/record?rrname=upload.wikimedia.org&rrtype=A&rdata=208.80.152.3")
    assert again["record"]["count"] == 1 and again["samples"][0]["count"] == 1

    # Reprocessing with a new answer: only the new line is written (r1 file) and posted (new batch id).
    report = real_report(7)
    report["network"]["dns"].append(
        {"request": "late.example", "type": "A", "answers": [{"type": "A", "data": "192.0.2.77"}], "first_seen": 1.3e9}
    )
    framework.run(report, tmp_path / "a7", {"id": 7}, output_dir=str(tmp_path / "tsv"), **post)
    assert len(list((tmp_path / "tsv").glob("cuckoo-task7-*.r1.dnsdump2.tsv"))) == 1
    assert ("late.example", "A", "192.0.2.77") in _records(srv, query_token, 7)
    again = _get(srv, query_token, "/api/v1/record?rrname=upload.wikimedia.org&rrtype=A&rdata=208.80.152.3")
    assert again["record"]["count"] == 1


def _certificate(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize("framework", ["capev2"], indirect=True)
def test_direct_post_verifies_the_server_certificate(
    framework: Framework, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = _certificate(tmp_path)
    with LiveServer(tmp_path / "server-data", tls=(cert, key)) as srv:
        post = {"url": srv.url, "token": srv.sensor_token("cape-tls"), "queue_dir": str(tmp_path / "q"), "timeout": 5}
        with caplog.at_level(logging.WARNING):  # not signed by a CA the sandbox trusts: refused, kept queued
            framework.run(real_report(10), tmp_path / "a", {"id": 10}, write_tsv=False, **post)
        assert any("CERTIFICATE_VERIFY_FAILED" in r.getMessage() for r in caplog.records)
        assert len(list((tmp_path / "q").glob("*.ndjson.gz"))) == 1
        framework.run(real_report(10), tmp_path / "a", {"id": 10}, write_tsv=False, ca_file=str(cert), **post)
        assert not list((tmp_path / "q").glob("*.ndjson.gz"))
        token = srv.query_token("alice")
        request = urllib.request.Request(
            f"{srv.url}/api/v1/records?sample={_sha(10)}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10, context=ssl.create_default_context(cafile=cert)) as reply:
            assert [r["rrname"] for r in json.load(reply)["records"]] == ["zeek.example.net"]
