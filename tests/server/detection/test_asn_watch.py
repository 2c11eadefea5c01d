"""``asn`` watchlist entries: read from lines, STIX and MISP; matched at ingest from kept context (the real
enricher over an MMDB written with mmdb-writer) or from the configured MMDB for a new address; retro-hunted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from pymisp import MISPEvent

from tests.enrich.test_mmdb import write_mmdb
from tests.server.conftest import auth
from tests.server.detection.conftest import KEEPS
from tests.server.detection.test_alerts import add, ingest, rec
from tests.server.detection.test_flux import enrich
from yapdns.server.detection import asnmatch, indicators, services
from yapdns.server.detection.models import Alert
from yapdns.storage.base import Store

CF = {"1.1.1.0/24": {"autonomous_system_number": 13335, "autonomous_system_organization": "CLOUDFLARENET"}}
MOVED = {"5.5.5.0/24": {"autonomous_system_number": 64496, "autonomous_system_organization": "EXAMPLE-AS"}}


@pytest.fixture(autouse=True)
def fresh_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("YAPDNS_GEOIP_MMDB", "")
    monkeypatch.setenv("YAPDNS_GEOIP_BUILTIN", "false")  # each test says which data it matches with
    asnmatch.forget_resolver()
    yield
    asnmatch.forget_resolver()


def test_asn_indicators_from_lines_stix_and_misp() -> None:
    read = list(indicators.read_lines("asn:AS13335\nasn:15169\nASN:as64496\nasn:AS4294967296\nasn:ASx\n"))
    assert [(r.kind, r.value) for r in read if isinstance(r, indicators.IndicatorSpec)] == [
        ("asn", "AS13335"), ("asn", "AS15169"), ("asn", "AS64496")]
    assert [r.where for r in read if isinstance(r, indicators.Skipped)] == ["line 4", "line 5"]
    bundle = {"type": "bundle", "id": "bundle--6f2b2b8c-5a0e-4f6e-9a43-2b8d6f0c1e01", "objects": [{
        "type": "indicator", "spec_version": "2.1", "id": "indicator--0c2d9b51-9d0e-4a8e-8a9e-1c1f1b2e3d4f",
        "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "name": "bulletproof host",
        "pattern": "[autonomous-system:number = 64496]", "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z"}]}
    stix = list(indicators.read_stix(json.dumps(bundle)))
    assert [(s.kind, s.value, s.label) for s in stix if isinstance(s, indicators.IndicatorSpec)] == [
        ("asn", "AS64496", "bulletproof host")]
    event = MISPEvent()
    event.info = "AS watch"
    event.add_attribute("AS", "AS13335", comment="edge")
    misp = list(indicators.read_misp(event.to_json()))
    assert [(s.kind, s.value, s.label) for s in misp if isinstance(s, indicators.IndicatorSpec)] == [
        ("asn", "AS13335", "edge")]


@KEEPS
def test_ingest_matches_an_address_by_its_kept_context(client: Client, store: Store, sensor_token: str,
                                                      query_token: str, tmp_path: Path) -> None:
    ingest(client, sensor_token, "old", rec("before.example", "5.5.5.5"))
    assert enrich(store, write_mmdb(tmp_path / "asn.mmdb", "GeoLite2-ASN", MOVED, 1_700_000_000)) == 1
    entry = add(client, query_token, value="asn:AS64496", label="watch this AS")
    assert entry["kind"] == "asn" and entry["value"] == "AS64496"
    ingest(client, sensor_token, "new", rec("c2.example", "5.5.5.5", "192.0.2.1"), rec("other.example", "1.1.1.1"))
    alerts = client.get("/api/v1/alerts", **auth(query_token)).json()["alerts"]
    assert [(a["record"]["rrname"], a["record"]["rdata"], a["entry"]["value"]) for a in alerts] == [
        ("c2.example", "5.5.5.5", "AS64496")]
    assert services.hunt_pending(store) == 1  # the retro-hunt finds the history of the same address
    hunted = {(a.rrname, a.origin) for a in Alert.objects.all()}
    assert hunted == {("c2.example", "live"), ("before.example", "retro-hunt")}  # c2's hunt folded into its alert
    assert client.get("/api/v1/watchlist", **auth(query_token)).json()["entries"][0]["hunt_found"] == 2


@KEEPS
def test_a_new_address_is_matched_from_the_configured_mmdb(client: Client, store: Store, sensor_token: str,
                                                           query_token: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    add(client, query_token, value="asn:AS13335")
    ingest(client, sensor_token, "b0", rec("early.example", "1.1.1.1"))  # no context anywhere: no match
    monkeypatch.setenv("YAPDNS_GEOIP_MMDB", str(write_mmdb(tmp_path / "cf.mmdb", "GeoLite2-ASN", CF, 1_700_000_000)))
    asnmatch.forget_resolver()
    ingest(client, sensor_token, "b1", rec("one.example", "1.1.1.1"), rec("two.example", "1.1.1.2", rrtype="A"))
    found = sorted(a.rrname for a in Alert.objects.all())
    assert found == ["one.example", "two.example"] and not store.ip_context(["1.1.1.1"])  # nothing kept by matching


@KEEPS
def test_out_of_the_box_the_built_in_as_numbers_match_a_new_address(client: Client, store: Store,
                                                                  sensor_token: str, query_token: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YAPDNS_GEOIP_BUILTIN", "true")  # the shipped @ip-location-db/asn data (enrich/asnumbers.py)
    add(client, query_token, value="asn:AS13335")
    ingest(client, sensor_token, "b", rec("one.one.example", "1.1.1.1"), rec("private.example", "10.1.2.3"))
    assert [a.rrname for a in Alert.objects.all()] == ["one.one.example"]  # 1.1.1.1 is Cloudflare's, AS13335


def test_the_resolver_reads_context_once_per_address() -> None:
    calls: list[list[str]] = []

    class Counting:
        def ip_context(self, ips: list[str]) -> dict[str, list[object]]:
            calls.append(sorted(ips))
            return {}

    resolver = asnmatch.AsnResolver(Counting)  # type: ignore[arg-type]
    assert resolver.resolve(["192.0.2.1", "192.0.2.1", "192.0.2.2"]) == {"192.0.2.1": None, "192.0.2.2": None}
    resolver.resolve(["192.0.2.2", "192.0.2.3"])
    assert calls == [["192.0.2.1", "192.0.2.2"], ["192.0.2.3"]]


def test_a_backend_without_context_skips_the_asn_hunt(client: Client, store: Store, query_token: str) -> None:
    from yapdns.core.errors import InvalidQuery

    class NoContext:  # a backend that refuses context filters
        def iter_records(self, query: object) -> object:
            raise InvalidQuery("address context filters are not supported")

    entry = add(client, query_token, value="asn:AS13335")
    assert services.hunt_pending(NoContext()) == 1  # type: ignore[arg-type]
    hunted = client.get("/api/v1/watchlist", **auth(query_token)).json()["entries"][0]
    assert hunted["id"] == entry["id"] and hunted["hunted_at"] and hunted["hunt_found"] == 0


@KEEPS
def test_an_address_whose_as_is_known_only_after_the_hunt_is_matched_when_enriched(
        client: Client, store: Store, sensor_token: str, query_token: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from yapdns.server.enrichment import jobs

    add(client, query_token, value="asn:AS64496")
    assert services.hunt_pending(store) == 1  # hunted: nothing in history yet
    ingest(client, sensor_token, "b", rec("c2.example", "5.5.5.5", count=3), rec("quiet.example", "192.0.2.1"))
    assert Alert.objects.count() == 0  # no source knows 5.5.5.5's AS yet
    monkeypatch.setenv("YAPDNS_GEOIP_MMDB", str(write_mmdb(tmp_path / "asn.mmdb", "GeoLite2-ASN", MOVED, 1_700_000_000)))
    monkeypatch.setattr(jobs, "_enricher", None)  # the job's datasets, read from the new setting
    jobs.enrich_addresses.call()  # the enricher keeps 5.5.5.5's context: AS64496
    [alert] = Alert.objects.all()
    assert (alert.rrname, alert.rdata, alert.count, alert.origin) == ("c2.example", "5.5.5.5", 3, "retro-hunt")
    jobs.enrich_addresses.call()  # nothing new
    asnmatch.forget_resolver()  # the server's memory of "AS unknown" lasts 5 minutes (asnmatch.CACHE_SECONDS)
    ingest(client, sensor_token, "b2", rec("c2.example", "5.5.5.5", count=2))  # live now (kept context)
    alert.refresh_from_db()
    assert (Alert.objects.count(), alert.count) == (1, 5)
