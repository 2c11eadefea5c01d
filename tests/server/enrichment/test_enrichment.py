"""The enrichment job over a real store, with the built-in data and an MMDB written here; what the API, CSV,
search and the IP page show of it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.test import Client

from tests.enrich.test_mmdb import write_mmdb
from tests.server.conftest import auth, make_user
from tests.storage.builders import obs
from yapdns.server.accounts.services import create_query_token
from yapdns.server.enrichment import jobs
from yapdns.server.enrichment.models import EnrichmentCursor
from yapdns.storage.base import Store

D2023, D2027 = 1_700_000_000, 1_800_000_000
CF = {"1.1.1.0/24": {"autonomous_system_number": 13335, "autonomous_system_organization": "CLOUDFLARENET"}}
MOVED = {"1.1.1.0/24": {"autonomous_system_number": 64500, "autonomous_system_organization": "<b>NEW-AS</b>"}}


@pytest.fixture
def mmdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_mmdb(tmp_path / "asn.mmdb", "GeoLite2-ASN", CF, D2023)
    monkeypatch.setenv("YAPDNS_GEOIP_MMDB", str(path))
    monkeypatch.setattr(jobs, "_enricher", None)
    return path


def _load(store: Store) -> None:
    store.write([obs("one.example", "A", "1.1.1.1", first=1_600_000_000, last=1_650_000_000),
                 obs("www.example.net", "A", "8.8.8.8"), obs("intranet.example", "A", "10.1.2.3"),
                 obs("v6.example", "AAAA", "2606:4700::1111")])


def test_the_job_keeps_each_datasets_answer_and_adds_changes_beside_them(store: Store, mmdb: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _load(store)
    assert jobs.enrich_addresses.call() == 12  # 4 addresses x 3 datasets (MMDB, built-in AS numbers, countries)
    found = store.ip_context(["1.1.1.1", "8.8.8.8", "10.1.2.3"])
    assert "10.1.2.3" not in found  # private: nothing invented
    by_source = {r.source: r for r in found["1.1.1.1"]}
    assert by_source["GeoLite2-ASN"].asn == 13335
    assert (by_source["ip-location-db AS"].asn, by_source["ip-location-db AS"].as_name) == (13335, "Cloudflare, Inc.")
    assert by_source["ip-location-db country"].country == "AU"
    assert jobs.enrich_addresses.call() == 0  # nothing new
    write_mmdb(mmdb, "GeoLite2-ASN", MOVED, D2027)  # new data: a new identity walks every address again
    monkeypatch.setattr(jobs, "_enricher", None)
    assert jobs.enrich_addresses.call() == 4
    history = [r for r in store.ip_context(["1.1.1.1"])["1.1.1.1"] if r.source == "GeoLite2-ASN"]
    assert [(r.asn, r.data_date) for r in history] == [(13335, D2023), (64500, D2027)]
    assert EnrichmentCursor.objects.count() == 4


def test_api_csv_filters_and_ip_page_show_the_context(store: Store, mmdb: Path, client: Client,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _load(store)
    jobs.enrich_addresses.call()
    write_mmdb(mmdb, "GeoLite2-ASN", MOVED, D2027)
    monkeypatch.setattr(jobs, "_enricher", None)
    jobs.enrich_addresses.call()
    token = auth(create_query_token(make_user("ana"), "t")[1])
    [rec] = client.get("/api/v1/records", {"q": "1.1.1.1"}, **token).json()["records"]
    assert rec["context"]["asn"] == 13335  # last seen in 2022: as of then, the 2023 data is the oldest known
    assert {k: rec[k] for k in ("rrname", "rdata", "count")} == {"rrname": "one.example", "rdata": "1.1.1.1", "count": 1}
    current = client.get("/api/v1/context/1.1.1.1", **token).json()
    assert current["current"]["asn"] == 64500 and len(current["history"]) == 4
    assert client.get("/api/v1/context/nope", **token).status_code == 400
    by_asn = client.get("/api/v1/records", {"asn": "AS64500"}, **token).json()["records"]
    assert [r["rdata"] for r in by_asn] == ["1.1.1.1"]
    both = client.get("/api/v1/records", {"rrname": "*.example.net", "cc": "us"}, **token).json()["records"]
    assert [r["rdata"] for r in both] == ["8.8.8.8"]
    assert client.get("/api/v1/records", {"asn": "x13"}, **token).status_code == 400
    assert client.get("/api/v1/records", {"cc": "NLD"}, **token).status_code == 400
    body = b"".join(client.get("/api/v1/records", {"q": "1.1.1.0/24", "format": "csv"}, **token).streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert (rows[0]["asn"], rows[0]["country"]) == ("13335", "AU")
    cof = b"".join(client.get("/api/v1/records", {"q": "1.1.1.1", "format": "cof"}, **token).streaming_content)
    assert "context" not in json.loads(cof.splitlines()[0])  # COF keeps its own fields
    client.force_login(make_user("rita", "read-only"))
    page = client.get("/ip/1.1.1.1").content.decode()
    assert 'id="announced"' in page and "AS13335" in page and "moved" in page
    assert "<b>NEW-AS</b>" not in page and "&lt;b&gt;NEW-AS&lt;/b&gt;" in page
    search = client.get("/search", {"q": "asn:13335"}).content.decode()
    assert "one.example" in search and "www.example.net" not in search
    assert '<span class="ctx-badge" title="CLOUDFLARENET · 1.1.1.0/24' in search and "AS13335 · AU" in search
    graph = client.get("/api/v1/pivot", {"node": "one.example"}, **token).json()
    [node] = [n for n in graph["nodes"] if n["kind"] == "ip"]
    assert (node["value"], node["asn"], node["country"]) == ("1.1.1.1", 64500, "AU")  # latest: AS moved in 2027 data
    datasets = client.get("/api/v1/enrichment", **token).json()["datasets"]
    assert {d["dataset"] for d in datasets} >= {"ip-location-db country@2026-06-17", "ip-location-db AS@2026-06-17"}


def test_domain_page_counts_ases_and_countries_and_overview_names_the_data(store: Store, mmdb: Path,
                                                                           client: Client) -> None:
    store.write([obs("flux.example", "A", ip) for ip in ("1.1.1.1", "8.8.8.8", "8.8.4.4", "10.9.9.9")])
    jobs.enrich_addresses.call()
    client.force_login(make_user("rita", "read-only"))
    page = client.get("/domain/flux.example").content.decode()
    assert 'id="by-as"' in page and "AS13335 CLOUDFLARENET" in page and "AS15169 Google LLC" in page
    # seen in 2023: the MMDB of 2023 is nearer than the built-in AS data of 2026, which alone knows 8.8.8.8
    assert "2 ASes" in page and "1 address unknown" in page  # 10.9.9.9: private, nothing invented
    assert 'href="/search?q=cc%3AUS"' in page
    overview = client.get("/").content.decode()
    assert 'id="datasets"' in overview and "ip-location-db country" in overview and "GeoLite2-ASN" in overview


def test_out_of_the_box_the_built_in_data_gives_as_numbers(store: Store, client: Client,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YAPDNS_GEOIP_MMDB", raising=False)
    monkeypatch.setattr(jobs, "_enricher", None)
    _load(store)
    assert jobs.enrich_addresses.call() == 8  # 4 addresses x 2 built-in datasets, no file configured
    token = auth(create_query_token(make_user("ana"), "t")[1])
    by_asn = client.get("/api/v1/records", {"asn": "15169"}, **token).json()["records"]
    assert [(r["rdata"], r["context"]["asn"], r["context"]["country"]) for r in by_asn] == [("8.8.8.8", 15169, "US")]
    current = client.get("/api/v1/context/2606:4700::1111", **token).json()["current"]
    assert current["asn"] == 13335 and current["source"].startswith("ip-location-db AS")
    datasets = {d["dataset"] for d in client.get("/api/v1/enrichment", **token).json()["datasets"]}
    assert "ip-location-db AS@2026-06-17" in datasets
    client.force_login(make_user("rita", "read-only"))
    page = client.get("/ip/1.1.1.1").content.decode()
    assert "AS13335" in page and "Cloudflare, Inc." in page and 'href="https://db-ip.com"' in page
    search = client.get("/search", {"q": "asn:13335"}).content.decode()
    assert "one.example" in search and "v6.example" in search and "www.example.net" not in search


def test_geoip2fast_is_opt_in(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YAPDNS_GEOIP_MMDB", raising=False)
    monkeypatch.setenv("YAPDNS_GEOIP_GEOIP2FAST", "true")
    monkeypatch.setattr(jobs, "_enricher", None)
    store.write([obs("one.example", "A", "1.1.1.1")])
    assert jobs.enrich_addresses.call() == 3  # AS numbers, countries, and GeoLite2 in geoip2fast
    sources = {r.source: r for r in store.ip_context(["1.1.1.1"])["1.1.1.1"]}
    assert sources["geoip2fast GeoLite2 country+AS"].as_name == "CLOUDFLARENET"
