"""Asking upstream pDNS services: DNSDB (dnsdb2) and CIRCL (pypdns) against a second, live YAPDNS server whose
compatible endpoints those clients accept; VirusTotal against a local server replaying its documented answer."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from django.test import Client

from tests.conftest import SAMPLES
from tests.live import LiveServer
from tests.server.conftest import auth, make_user
from tests.server.enrichment.vt_pages import PagedResolutions, paged_server
from tests.storage.builders import obs
from yapdns.cli import main
from yapdns.core.model import Evidence
from yapdns.server.accounts.services import create_query_token
from yapdns.server.enrichment import upstream
from yapdns.server.enrichment.models import UpstreamFetch
from yapdns.storage.base import Store
from yapdns.storage.query import IpRange, NameMatch, RecordQuery
from yapdns.upstream.base import UpstreamError

VT_SAMPLE = SAMPLES / "virustotal_v3_resolutions" / "from_docs_domain_resolutions.json"
T0 = 1_600_000_000


class Upstream(LiveServer):
    token = ""


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    """A second YAPDNS: the upstream service, with a few records and an analyst's query token."""
    with Upstream(tmp_path_factory.mktemp("upstream") / "data", access_log=False) as server:
        server.add_user("remote", "analyst", "correct-horse-battery")
        server.token = server.cli("token", "add", "remote").strip().splitlines()[-1]
        server.ingest(server.sensor_token("far"), [
            obs("www.upstream.example", "A", "192.0.2.10", "192.0.2.11", first=T0, last=T0 + 50, count=7,
                bailiwick="upstream.example", sensor=None),
            obs("mail.upstream.example", "A", "192.0.2.10", first=T0, last=T0 + 9, sensor=None),
            obs("upstream.example", "MX", "10 mail.upstream.example", first=T0, last=T0, sensor=None),
        ])
        yield server


class _Replay(http.server.BaseHTTPRequestHandler):
    """VirusTotal v3 as documented: the resolutions answer for the key it expects, 401 otherwise."""

    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        ok = self.headers.get("x-apikey") == "vt-test-key" and self.path.startswith("/api/v3/domains/foo.com/resolutions")
        body = VT_SAMPLE.read_bytes() if ok else json.dumps({"error": {"code": "WrongCredentialsError"}}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def vt() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Replay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    server.shutdown()


@pytest.fixture
def configured(other: Upstream, vt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"YAPDNS_UPSTREAM_DNSDB_KEY": other.token, "YAPDNS_UPSTREAM_DNSDB_URL": other.url,
           "YAPDNS_UPSTREAM_CIRCL_USER": "remote", "YAPDNS_UPSTREAM_CIRCL_PASSWORD": other.token,
           "YAPDNS_UPSTREAM_CIRCL_URL": f"{other.url}/pdns/query",
           "YAPDNS_UPSTREAM_VT_KEY": "vt-test-key", "YAPDNS_UPSTREAM_VT_URL": vt,
           "YAPDNS_UPSTREAM_DAILY_QUOTA": "dnsdb=3,circl=5,virustotal=5"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def _imported(store: Store, name: str) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    rows = store.records(RecordQuery(rrname=NameMatch.parse(name))).rows
    return {(r.rrtype, r.rdata): [(p.sensor_id, p.evidence, p.source) for p in store.provenance(r.rrname, r.rrtype, r.rdata)]
            for r in rows}


def test_dnsdb_through_dnsdb2_caches_and_keeps_its_quota(store: Store, configured: None) -> None:
    first = upstream.ask("dnsdb", "www.upstream.example")
    assert (first.cached, first.accepted, first.quota_used, first.quota_limit) == (False, 1, 1, 3)  # one RRset of 2
    assert first.upstream_quota is not None and first.upstream_quota["limit"] == "unlimited"
    got = _imported(store, "www.upstream.example")
    assert set(got) == {("A", "192.0.2.10"), ("A", "192.0.2.11")}
    assert got[("A", "192.0.2.10")] == [("upstream/dnsdb", Evidence.IMPORTED, "dnsdb")]
    [record] = [r for r in store.records(RecordQuery(rrname=NameMatch.parse("www.upstream.example"))).rows
                if r.rdata == "192.0.2.11"]
    assert (record.time_first, record.time_last, record.count) == (T0, T0 + 50, 7)
    assert upstream.ask("dnsdb", "WWW.upstream.example.").cached  # same normalized query: no request
    by_ip = upstream.ask("dnsdb", "192.0.2.10")
    assert by_ip.accepted >= 2 and not by_ip.cached
    assert {r.rrname for r in store.records(RecordQuery(rdata_ip=IpRange.parse("192.0.2.10"))).rows} == {
        "www.upstream.example", "mail.upstream.example"}
    upstream.ask("dnsdb", "mail.upstream.example")
    with pytest.raises(upstream.QuotaExceeded):
        upstream.ask("dnsdb", "upstream.example")  # a fourth request in 24 h


def test_circl_through_pypdns(store: Store, configured: None) -> None:
    result = upstream.ask("circl", "upstream.example")
    assert result.accepted == 1
    assert _imported(store, "upstream.example") == {("MX", "10 mail.upstream.example"): [
        ("upstream/circl", Evidence.IMPORTED, "circl")]}


def test_virustotal_documented_answer_and_a_refusal(store: Store, configured: None, monkeypatch: pytest.MonkeyPatch) -> None:
    result = upstream.ask("virustotal", "foo.com")
    assert result.accepted == 2
    # the example's placeholder cursor is followed once; the replay answers the same page: nothing counted twice
    assert result.quota_used == 2 and "cursor=%3Cstring%3E" in _Replay.seen[-1]
    records = {(r.rdata, r.time_first, r.time_last, r.count)
               for r in store.records(RecordQuery(rrname=NameMatch.parse("foo.com"))).rows}
    assert records == {("1.2.3.4", 1591813960, 1591813960, 1), ("4.3.2.1", 1591787179, 1591787179, 1)}
    assert _imported(store, "foo.com")[("A", "1.2.3.4")] == [("upstream/virustotal", Evidence.IMPORTED, "virustotal")]
    monkeypatch.setenv("YAPDNS_UPSTREAM_VT_KEY", "wrong")
    with pytest.raises(UpstreamError, match="401"):
        upstream.ask("virustotal", "bar.com")


def test_api_dashboard_and_cli(store: Store, configured: None, client: Client) -> None:
    analyst = auth(create_query_token(make_user("ana"), "t")[1])
    reader = auth(create_query_token(make_user("rita", "read-only"), "t")[1])
    ask = {"content_type": "application/json"}
    assert client.post("/api/v1/upstream", json.dumps({"connector": "dnsdb", "query": "x.example"}), **ask,
                       **reader).status_code == 403
    assert client.post("/api/v1/upstream", json.dumps({"connector": "nope", "query": "x.example"}), **ask,
                       **analyst).status_code == 404
    assert client.post("/api/v1/upstream", json.dumps({"connector": "dnsdb", "query": "*.example"}), **ask,
                       **analyst).status_code == 400
    done = client.post("/api/v1/upstream", json.dumps({"connector": "circl", "query": "www.upstream.example"}), **ask,
                       **analyst)
    assert done.status_code == 200 and done.json()["accepted"] == 2
    status = client.get("/api/v1/upstream", **analyst).json()["connectors"]
    assert [(c["name"], c["quota_used"]) for c in status] == [("dnsdb", 0), ("circl", 1), ("virustotal", 0)]
    client.force_login(make_user("ann", "analyst"))
    page = client.get("/domain/www.upstream.example").content.decode()
    assert 'action="/upstream/ask"' in page and '<option value="virustotal">' in page
    shown = client.post("/upstream/ask", {"connector": "circl", "query": "www.upstream.example"}).content.decode()
    assert "a cached answer" in shown and 'href="/domain/www.upstream.example"' in shown
    out = CliRunner().invoke(main, ["fetch-upstream", "mail.upstream.example", "-c", "circl"])
    assert out.exit_code == 0 and "circl: asked" in out.output and "2 stored" in out.output  # the A, and the MX naming it


@pytest.fixture
def vt_paged(configured: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[PagedResolutions]]:
    with paged_server() as (url, handler):
        monkeypatch.setenv("YAPDNS_UPSTREAM_VT_URL", url)
        yield handler


def test_virustotal_reads_every_page_by_cursor(store: Store, vt_paged: type[PagedResolutions]) -> None:
    vt_paged.total = 95
    result = upstream.ask("virustotal", "paged.example")
    assert (result.accepted, result.quota_used) == (95, 3)  # pages of 40, 40 and 15, one request each
    assert [(q.get("cursor"), q["limit"]) for q in vt_paged.seen] == [(None, "40"), ("40", "40"), ("80", "40")]
    assert vt_paged.hosts == {vt_paged.host}  # links.next names another host: never followed, the key stays home
    rows = store.records(RecordQuery(rrname=NameMatch.parse("paged.example"))).rows
    assert len(rows) == 95 and {r.rrtype for r in rows} == {"A", "AAAA"}
    assert min(r.time_first for r in rows) == T0 and max(r.time_last for r in rows) == T0 + 94


def test_virustotal_paging_stops_at_the_quota_the_limit_and_a_failing_page(
        store: Store, vt_paged: type[PagedResolutions], monkeypatch: pytest.MonkeyPatch) -> None:
    vt_paged.total = 200
    monkeypatch.setenv("YAPDNS_UPSTREAM_DAILY_QUOTA", "virustotal=2")
    first = upstream.ask("virustotal", "paged.example")
    assert (first.accepted, first.quota_used) == (80, 2)  # the quota left allowed two pages
    with pytest.raises(upstream.QuotaExceeded):
        upstream.ask("virustotal", "other.example")
    monkeypatch.setenv("YAPDNS_UPSTREAM_DAILY_QUOTA", "virustotal=10")
    monkeypatch.setenv("YAPDNS_UPSTREAM_LIMIT", "50")
    vt_paged.seen.clear()
    assert upstream.ask("virustotal", "two.example").accepted == 50
    assert [q["limit"] for q in vt_paged.seen] == ["40", "10"]
    monkeypatch.setenv("YAPDNS_UPSTREAM_LIMIT", "1000")
    vt_paged.fail_at = 3
    kept = upstream.ask("virustotal", "three.example")
    assert (kept.accepted, kept.quota_used) == (80, 2 + 2 + 3)  # the failed page counts: it may have cost quota
    fetch = UpstreamFetch.objects.get(query="three.example")
    assert fetch.ok and fetch.error.startswith("page 3: VirusTotal answered 429")
