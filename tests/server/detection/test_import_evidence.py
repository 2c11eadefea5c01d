"""Resolutions inside STIX 2.1 bundles and MISP events are imported as evidence: exported by YAPDNS's API,
imported into a fresh store, the same records come back; bad records are rejected alone and counted."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.conftest import ROOT
from tests.server.conftest import auth
from tests.server.detection.conftest import KEEPS
from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import DocumentParser
from yapdns.agent.parsing import ParseRun
from yapdns.core.batch import DecodedBatch
from yapdns.core.model import Evidence, Record
from yapdns.ingest import IngestService
from yapdns.storage.base import BatchRef, Store
from yapdns.storage.query import NameMatch, RecordQuery
from yapdns.storage.registry import StoreOptions, open_store

GOLDEN = ROOT / "tests/agent/parsers/golden"
SOURCES = [  # real data: Farsight's COF README example, Suricata 7.0.10's EVE log of real BIND 9 answers
    ("cof", GOLDEN / "cof/pdns-qof-server_README.ndjson"),
    ("suricata", GOLDEN / "suricata/suricata-7.0.10_bind9_grouped-only.eve.json"),
]
STIX_TYPES = {"A", "AAAA", "CNAME"}


def parse(fmt: str, data: bytes) -> tuple[list[Any], ParseRun]:
    run = ParseRun(registry.parser_class(fmt)())
    if isinstance(run.parser, DocumentParser):
        return run.document(data), run
    return list(run.lines(data.decode().splitlines())), run


@pytest.fixture
def loaded(store: Store) -> Store:
    for fmt, path in SOURCES:
        observations, _ = parse(fmt, path.read_bytes())
        store.write(observations, BatchRef("s1", f"load-{fmt}"))
    return store


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Store]:
    other = open_store(f"sqlite:///{tmp_path / 'fresh.sqlite3'}", StoreOptions(data_dir=tmp_path))
    other.migrate()
    yield other
    other.close()


def records(store: Store, names: set[str]) -> set[tuple[Any, ...]]:
    found = set()
    for name in names:
        for r in store.iter_records(RecordQuery(rrname=NameMatch.parse(name), limit=1000)):
            found.add((r.rrname, r.rrtype, r.rdata, r.time_first, r.time_last, r.count, r.zone_time_first,
                       r.zone_time_last))
    return found


def source_names() -> set[str]:
    return {o.rrname for fmt, path in SOURCES for o in parse(fmt, path.read_bytes())[0] if o.rdata}


def exported(client: Client, token: str, fmt: str, pattern: str) -> bytes:
    response = client.get("/api/v1/records", {"q": pattern, "format": fmt, "limit": "1000"}, **auth(token))
    assert response.status_code == 200, response.content
    return bytes(response.content)


def import_into(fresh: Store, fmt: str, documents: list[bytes]) -> ParseRun:
    service = IngestService(fresh)
    run = ParseRun(registry.parser_class(fmt)())
    for i, data in enumerate(documents):
        service.submit("import", DecodedBatch(f"{fmt}-{i}", run.document(data), []))
    return run


@pytest.mark.parametrize("fmt", ["stix", "misp"])
def test_an_export_imported_into_a_fresh_store_gives_the_same_records(
    client: Client, loaded: Store, query_token: str, fresh: Store, fmt: str
) -> None:
    every = source_names()
    run = import_into(fresh, fmt, [exported(client, query_token, fmt, name) for name in sorted(every)])
    assert run.stats.error_count == 0, list(run.stats.samples)
    original = records(loaded, every)
    wanted = {r for r in original if r[1] in STIX_TYPES} if fmt == "stix" else original
    assert len(wanted) >= 10 and {r[1] for r in wanted} >= STIX_TYPES
    assert records(fresh, every) == wanted
    [prov] = fresh.provenance(*next(iter(sorted(wanted)))[:3])
    assert (prov.sensor_id, prov.evidence) == (f"import/{fmt}", Evidence.IMPORTED)


def stix_bundle(*objects: dict[str, Any]) -> bytes:
    return json.dumps({"type": "bundle", "id": "bundle--9a7f1c0e-4a55-4bb4-9d0a-2b3c4d5e6f70",
                       "objects": list(objects)}).encode()


def sco(kind: str, value: str, ident: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{ident}", "value": value, **extra}


DOMAIN = sco("domain-name", "c2.example.net", "0ba2599e-d2f1-5efd-87ad-77a272d6710c")
ADDRESS = sco("ipv4-addr", "198.51.100.7", "33fb9fd7-3227-560d-90e5-2a2cb67ec010")
V6 = sco("ipv6-addr", "2001:db8::7", "12de549b-20ef-5330-ae51-878b23250d8e")
STAMPS = {"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "spec_version": "2.1"}


def relationship(ident: str, source: str, target: str, **times: str) -> dict[str, Any]:
    return {"type": "relationship", "id": f"relationship--{ident}", "relationship_type": "resolves-to",
            "source_ref": source, "target_ref": target, **STAMPS, **times}


def test_bad_stix_objects_are_rejected_alone_and_counted(fresh: Store) -> None:
    domain = dict(DOMAIN, resolves_to_refs=[V6["id"]])  # the other STIX 2.1 form of a resolution
    observed = {"type": "observed-data", "id": "observed-data--6f8a3c2e-1b7d-4e9a-8c5f-0d1e2f3a4b5c", **STAMPS,
                "first_observed": "2026-02-01T10:00:00Z", "last_observed": "2026-02-03T10:00:00.5Z",
                "number_observed": 7, "object_refs": [DOMAIN["id"], V6["id"]]}
    document = stix_bundle(
        domain, ADDRESS, V6, observed,
        relationship("5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", DOMAIN["id"], ADDRESS["id"],
                     start_time="2026-02-02T00:00:00Z", stop_time="2026-02-02T06:00:00Z"),
        relationship("6a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d", DOMAIN["id"], V6["id"], start_time="yesterday"),
        relationship("7b3c4d5e-6f7a-4b2c-9d3e-4f5a6b7c8d9e", DOMAIN["id"], "ipv4-addr--deadbeef-0000-4000-8000-000000000000"),
        sco("ipv4-addr", "not-an-address", "44fb9fd7-3227-560d-90e5-2a2cb67ec011"),
        {"type": "indicator", "id": "indicator--1"},  # not a resolution: passed over, not counted
        "junk",
    )
    run = import_into(fresh, "stix", [document])
    assert run.stats.errors == {"invalid_object": 2, "dangling_ref": 1}, list(run.stats.samples)
    got = records(fresh, {"c2.example.net"})
    assert got == {
        ("c2.example.net", "A", "198.51.100.7", 1769990400, 1770012000, 1, None, None),  # the relationship's times
        ("c2.example.net", "AAAA", "2001:db8::7", 1769940000, 1770112800, 7, None, None),  # the observed data's
    }


def test_a_resolution_without_any_time_is_rejected(fresh: Store) -> None:
    run = import_into(fresh, "stix", [stix_bundle(DOMAIN, ADDRESS, relationship(
        "5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", DOMAIN["id"], ADDRESS["id"]))])
    assert run.stats.errors == {"no_time": 1} and records(fresh, {"c2.example.net"}) == set()


@pytest.mark.parametrize("document", [b"", b"{", b"[1, 2]", b'{"type": "report"}', b'{"type": "bundle", "objects": 5}'])
def test_what_is_no_bundle_is_refused_whole(fresh: Store, document: bytes) -> None:
    run = import_into(fresh, "stix", [document])
    assert run.stats.error_count == 1 and next(iter(run.stats.errors)) in {"bad_json", "not_a_bundle"}


def misp_object(uuid: str, **relations: Any) -> dict[str, Any]:
    kinds = {"count": "counter", "time_first": "datetime", "time_last": "datetime", "zone_time_first": "datetime",
             "zone_time_last": "datetime"}
    return {"name": "passive-dns", "uuid": uuid, "Attribute": [
        {"object_relation": k, "type": kinds.get(k, "text"), "value": v}
        for k, values in relations.items() for v in (values if isinstance(values, list) else [values])]}


def test_bad_misp_objects_are_rejected_alone_and_counted(fresh: Store) -> None:
    event = {"Event": {"info": "pdns", "Object": [
        misp_object("8e0c9f1a-2b3c-4d5e-8f70-112233445566", rrname="ns.example.net", rrtype="NS",
                    rdata="a.iana-servers.net", zone_time_first="2026-01-05T00:00:00Z",
                    zone_time_last="2026-01-09T00:00:00Z", count="12"),
        misp_object("9f1d0a2b-3c4d-4e5f-9071-223344556677", rrname="www.example.net", rrtype="A",
                    rdata="192.0.2.1", time_first="2026-01-05T00:00:00Z"),
        misp_object("9f1d0a2b-3c4d-4e5f-9071-223344556678", rrname="www.example.net", rrtype="A",
                    rdata=["192.0.2.1", "192.0.2.2"], time_first="2026-01-05T00:00:00Z"),  # the template: one rdata
        misp_object("a0e1b2c3-4d5e-4f60-8172-334455667788", rrtype="A", rdata="192.0.2.3",
                    time_first="2026-01-05T00:00:00Z"),  # no rrname
        misp_object("b1f2c3d4-5e6f-4071-9283-445566778899", rrname="x.example.net", rrtype="A", rdata="192.0.2.4",
                    time_first="not a date"),
        misp_object("c2a3d4e5-6f70-4182-a394-556677889900", rrname="y.example.net", rrtype="A", rdata="192.0.2.5"),
        {"name": "file", "Attribute": []},  # another template: passed over
    ]}}
    run = import_into(fresh, "misp", [json.dumps(event).encode()])
    assert run.stats.errors == {"invalid_object": 3, "no_time": 1}, list(run.stats.samples)
    assert records(fresh, {"ns.example.net", "www.example.net"}) == {
        ("ns.example.net", "NS", "a.iana-servers.net", 1767571200, 1767916800, 12, 1767571200, 1767916800),
        ("www.example.net", "A", "192.0.2.1", 1767571200, 1767571200, 1, None, None),
    }


def test_the_import_command_reads_stix_as_evidence(tmp_path: Path, loaded: Store) -> None:
    from click.testing import CliRunner

    from yapdns.cli import main
    from yapdns.server.detection import stix

    bundle, _ = stix.records_bundle(loaded.iter_records(RecordQuery(rrname=NameMatch.parse("*.be"), limit=100)))
    path = tmp_path / "bundle.json"
    path.write_text(bundle.serialize())
    result = CliRunner().invoke(main, ["import", "-F", "stix", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "7 observations stored" in result.output
    kept: list[Record] = list(loaded.iter_records(RecordQuery(rrname=NameMatch.parse("*.be"), limit=100,
                                                              sensor="import/stix")))
    assert len(kept) == 7


BAD_AND_GOOD_STIX = stix_bundle(
    DOMAIN, ADDRESS, V6,
    relationship("5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", DOMAIN["id"], ADDRESS["id"],
                 start_time="2026-02-02T00:00:00Z", stop_time="2026-02-02T06:00:00Z"),
    relationship("6a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d", DOMAIN["id"], V6["id"], start_time="yesterday"),
    relationship("7b3c4d5e-6f7a-4b2c-9d3e-4f5a6b7c8d9e", DOMAIN["id"], "ipv4-addr--deadbeef-0000-4000-8000-000000000000"),
)


def upload(client: Client, token: str, fmt: str, body: bytes) -> Any:
    return client.post(f"/api/v1/evidence/import?format={fmt}", body, content_type="application/json", **auth(token))


def test_the_api_stores_a_bundles_resolutions_once_and_counts_rejects(
    client: Client, store: Store, query_token: str
) -> None:
    first = upload(client, query_token, "stix", BAD_AND_GOOD_STIX)
    assert first.status_code == 200, first.content
    report = first.json()
    assert (report["stored"], report["already_imported"], report["rejected"]) == (1, 0, 2)
    assert report["errors"] == {"invalid_object": 1, "dangling_ref": 1} and len(report["samples"]) == 2
    again = upload(client, query_token, "stix", BAD_AND_GOOD_STIX).json()
    assert (again["stored"], again["already_imported"]) == (0, 1)
    assert records(store, {"c2.example.net"}) == {
        ("c2.example.net", "A", "198.51.100.7", 1769990400, 1770012000, 1, None, None)}
    [prov] = store.provenance("c2.example.net", "A", "198.51.100.7")
    assert (prov.sensor_id, prov.evidence) == ("import/stix", Evidence.IMPORTED)


def test_a_file_imported_by_the_command_is_not_stored_again_by_the_api(
    tmp_path: Path, client: Client, store: Store, query_token: str
) -> None:
    from click.testing import CliRunner

    from yapdns.cli import main

    path = tmp_path / "event.json"
    path.write_bytes(json.dumps({"Event": {"info": "pdns", "Object": [misp_object(
        "8e0c9f1a-2b3c-4d5e-8f70-112233445566", rrname="ns.example.net", rrtype="NS", rdata="a.iana-servers.net",
        time_first="2026-01-05T00:00:00Z", time_last="2026-01-09T00:00:00Z", count="12")]}}).encode())
    result = CliRunner().invoke(main, ["import", "-F", "misp", str(path)], catch_exceptions=False)
    assert result.exit_code == 0 and "1 observations stored" in result.output, result.output
    report = upload(client, query_token, "misp", path.read_bytes()).json()
    assert (report["stored"], report["already_imported"], report["sensor"]) == (0, 1, "import/misp")
    [record] = records(store, {"ns.example.net"})
    assert record[5] == 12


@KEEPS
def test_an_uploaded_resolution_is_matched_against_the_watchlist(
    client: Client, store: Store, query_token: str
) -> None:
    from yapdns.server.detection import services
    from yapdns.server.detection.models import Alert

    response = client.post("/api/v1/watchlist", {"value": "*.example.net"}, content_type="application/json",
                           **auth(query_token))
    assert response.status_code == 201, response.content
    assert upload(client, query_token, "stix", BAD_AND_GOOD_STIX).json()["stored"] == 1
    assert services.fold_pending(store) == 1  # the match was kept; a server's folding thread folds it
    assert list(Alert.objects.values_list("rrname", "rdata")) == [("c2.example.net", "198.51.100.7")]


@pytest.mark.parametrize(("fmt", "body", "status", "message"), [
    ("cof", b"{}", 400, "format must be one of stix, misp"),
    ("stix", b"x" * (2 * 1024 * 1024 + 1), 413, "larger than"),
])
def test_the_api_refuses_other_formats_and_large_files(
    client: Client, store: Store, query_token: str, fmt: str, body: bytes, status: int, message: str
) -> None:
    response = upload(client, query_token, fmt, body)
    assert response.status_code == status and message in response.json()["error"]


@pytest.mark.parametrize(("fmt", "body", "message"), [
    ("stix", b'{"type": "report"}', "not a STIX bundle"),
    ("stix", b'""', "not a STIX bundle"),
    ("misp", b"[1, 2]", "not a MISP event"),
    ("misp", b"{not json", "not JSON"),
])
def test_what_is_no_bundle_or_event_is_a_400_and_stores_nothing(
    client: Client, store: Store, query_token: str, fmt: str, body: bytes, message: str
) -> None:
    response = upload(client, query_token, fmt, body)
    assert response.status_code == 400 and message in response.json()["error"]
    assert store.stats().observations == 0


def test_read_only_users_may_not_import_evidence(client: Client, store: Store) -> None:
    from tests.server.conftest import make_user
    from yapdns.server.accounts.services import create_query_token

    token = create_query_token(make_user("rita", "read-only"), "tests")[1]
    assert upload(client, token, "stix", BAD_AND_GOOD_STIX).status_code == 403


def test_the_dashboard_form_refuses_other_formats_and_read_only_users(client: Client, store: Store,
                                                                     analyst: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.server.conftest import make_user

    def post() -> Any:
        upload = SimpleUploadedFile("bundle.json", BAD_AND_GOOD_STIX, content_type="application/json")
        return client.post("/watchlist", {"action": "evidence", "format": "csv", "file": upload})

    client.force_login(analyst)
    refused = post()
    assert refused.status_code == 400 and "format must be one of stix, misp" in refused.content.decode()
    client.force_login(make_user("rita", "read-only"))
    assert post().status_code == 403


GENERATOR_MISP = GOLDEN / "misp/pymisp_domain-ip_generator.misp.json"  # written by PyMISP


def test_an_upload_may_name_a_registered_sensor_to_store_the_evidence_under(
    client: Client, store: Store, query_token: str
) -> None:
    from yapdns.server.sensors.services import create_sensor

    create_sensor("misp-feed")
    url = "/api/v1/evidence/import?format=misp&sensor=misp-feed"
    first = client.post(url, GENERATOR_MISP.read_bytes(), content_type="application/json", **auth(query_token))
    assert first.status_code == 200, first.content
    assert (first.json()["sensor"], first.json()["stored"], first.json()["errors"]) == ("misp-feed/misp", 3,
                                                                                         {"no_time": 1})
    [prov] = store.provenance("www.example.net", "AAAA", "2001:db8::80")
    assert (prov.sensor_id, prov.evidence) == ("misp-feed/misp", Evidence.IMPORTED)
    again = client.post(url, GENERATOR_MISP.read_bytes(), content_type="application/json", **auth(query_token))
    assert (again.json()["stored"], again.json()["already_imported"]) == (0, 3)
    default = upload(client, query_token, "misp", GENERATOR_MISP.read_bytes()).json()  # another sensor: stored
    assert (default["sensor"], default["stored"]) == ("import/misp", 3)
    assert {p.sensor_id for p in store.provenance("www.example.net", "AAAA", "2001:db8::80")} == {
        "misp-feed/misp", "import/misp"}


@pytest.mark.parametrize(("sensor", "message"), [
    ("nosuch", "no registered sensor 'nosuch'"),
    ("gone", "sensor 'gone' is revoked"),
])
def test_an_unknown_or_revoked_sensor_is_a_400_and_stores_nothing(
    client: Client, store: Store, query_token: str, sensor: str, message: str
) -> None:
    from yapdns.server.sensors.services import create_sensor, revoke_sensor

    create_sensor("gone")
    revoke_sensor("gone")
    response = client.post(f"/api/v1/evidence/import?format=misp&sensor={sensor}", GENERATOR_MISP.read_bytes(),
                           content_type="application/json", **auth(query_token))
    assert response.status_code == 400 and message in response.json()["error"], response.content
    assert store.stats().observations == 0


def health(name: str) -> tuple[int, ...]:
    from yapdns.server.sensors.models import Sensor

    s = Sensor.objects.get(name=name)
    return s.batches_total, s.replayed_total, s.accepted_total, s.rejected_total, s.refused_total


def test_an_upload_under_a_sensor_counts_in_its_health_counters_as_its_ingest_does(
    client: Client, store: Store, query_token: str
) -> None:
    from yapdns.server.sensors.services import create_sensor

    create_sensor("misp-feed")
    url = "/api/v1/evidence/import?format=misp&sensor=misp-feed"
    for _ in range(2):  # stored, then a replay
        client.post(url, GENERATOR_MISP.read_bytes(), content_type="application/json", **auth(query_token))
    assert health("misp-feed") == (2, 1, 3, 1, 0)  # batches, replayed, accepted, rejected (no_time), refused
    refused = client.post(url, b"[1, 2]", content_type="application/json", **auth(query_token))  # no MISP event
    assert refused.status_code == 400
    assert health("misp-feed") == (2, 1, 3, 1, 1)


def test_the_dashboard_form_offers_the_active_sensors_and_stores_under_the_one_chosen(
    client: Client, store: Store, analyst: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yapdns.server.sensors.services import create_sensor, revoke_sensor

    create_sensor("misp-feed")
    create_sensor("gone")
    revoke_sensor("gone")
    client.force_login(analyst)
    page = client.get("/watchlist").content.decode()
    assert '<option value="misp-feed">misp-feed</option>' in page and '<option value="gone">' not in page
    upload = SimpleUploadedFile("event.json", GENERATOR_MISP.read_bytes(), content_type="application/json")
    done = client.post("/watchlist", {"action": "evidence", "format": "misp", "sensor": "misp-feed", "file": upload})
    assert done.status_code == 200 and "3 resolutions stored" in done.content.decode()
    [prov] = store.provenance("www.example.net", "AAAA", "2001:db8::80")
    assert prov.sensor_id == "misp-feed/misp"
    assert health("misp-feed")[:4] == (1, 0, 3, 1)
    upload = SimpleUploadedFile("event.json", GENERATOR_MISP.read_bytes(), content_type="application/json")
    revoked = client.post("/watchlist", {"action": "evidence", "format": "misp", "sensor": "gone", "file": upload})
    assert revoked.status_code == 400 and "sensor 'gone' is revoked" in html.unescape(revoked.content.decode())
