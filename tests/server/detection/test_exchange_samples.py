"""STIX 2.1 bundles and MISP events written by other software (misp-stix's own fixtures, in the parsers' golden
samples: tests/agent/parsers/golden/stix and misp, PROVENANCE.txt) are read by both imports: the watchlist's
indicators and the evidence of resolutions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.conftest import ROOT
from tests.server.conftest import auth
from yapdns.agent.parsers import registry
from yapdns.agent.parsing import ParseRun
from yapdns.core.model import Observation
from yapdns.exchange.evidence import read_evidence
from yapdns.server.detection import indicators
from yapdns.storage.base import Store

SAMPLES = ROOT / "tests/agent/parsers/golden"
EVENT2_STIX = SAMPLES / "stix/misp-stix_test_event2_stix21.json"
OBJECTS_STIX = SAMPLES / "stix/misp-stix_test_objects_collection_stix21.json"
EVENTS_MISP = SAMPLES / "misp/misp-stix_test_events_collection_2.json"
CIRCL = ("circl.lu", "A", ("149.13.33.14",), 1603642920, 1603642920, 1)  # 2020-10-25T16:22:00Z, seen once


def indicator_values(path: Path, fmt: str) -> tuple[set[tuple[str, str]], list[indicators.Skipped]]:
    found, skipped = set(), []
    for item in (indicators.read_stix if fmt == "stix" else indicators.read_misp)(path.read_text(), None):
        if isinstance(item, indicators.Skipped):
            skipped.append(item)
        else:
            found.add((item.kind, item.value))
    return found, skipped


@pytest.mark.parametrize("path", [EVENT2_STIX, EVENTS_MISP], ids=["stix", "misp"])
def test_a_domain_ip_pair_becomes_a_name_and_an_address_indicator(path: Path) -> None:
    found, skipped = indicator_values(path, "stix" if "stix21" in path.name else "misp")
    assert found == {("name", "circl.lu"), ("ip", "149.13.33.14/32")}
    assert [s.reason for s in skipped] == (["file:name = is not a value this watchlist matches"]
                                           if path == EVENT2_STIX else [])


def test_other_indicators_are_skipped_with_a_readable_reason() -> None:
    found, skipped = indicator_values(OBJECTS_STIX, "stix")
    assert found == {("name", "circl.lu"), ("ip", "149.13.33.14/32")}
    reasons = {s.reason for s in skipped}
    assert "file:hashes.SHA-256 = is not a value this watchlist matches" in reasons
    assert "email-message:from_ref.value = is not a value this watchlist matches" in reasons
    assert not any("object at 0x" in r for r in reasons)


@pytest.mark.parametrize("path", [EVENT2_STIX, OBJECTS_STIX])
def test_a_bundles_resolution_is_read_the_same_by_the_import_command_and_the_upload(path: Path) -> None:
    run = ParseRun(registry.parser_class("stix")())
    by_command = run.document(path.read_bytes())
    by_upload = read_evidence("stix", path.read_bytes())
    assert run.stats.error_count == 0 and by_upload.rejects == []
    assert by_command == by_upload.observations
    assert [(o.rrname, o.rrtype, o.rdata, o.time_first, o.time_last, o.count) for o in by_command] == [CIRCL]


def test_a_misp_domain_ip_attribute_without_first_seen_is_counted_as_no_time() -> None:
    read = read_evidence("misp", EVENTS_MISP.read_bytes())  # a restSearch answer: {"response": [...]}
    assert read.observations == [] and dict(read.errors) == {"no_time": 1}


def test_with_first_seen_the_same_attribute_is_a_resolution() -> None:
    text = EVENTS_MISP.read_text().replace(
        '"to_ids": true\n', '"to_ids": true, "first_seen": "2020-10-25T16:22:00+00:00",'
        ' "last_seen": "2020-10-26T16:22:00+00:00"\n', 1)
    read = read_evidence("misp", text.encode())
    assert read.rejects == []
    assert [(o.rrname, o.rrtype, o.rdata, o.time_first, o.time_last) for o in read.observations] == [
        ("circl.lu", "A", ("149.13.33.14",), 1603642920, 1603729320)]


def test_the_api_stores_the_samples_resolution_as_evidence(client: Client, store: Store, query_token: str) -> None:
    response = client.post("/api/v1/evidence/import?format=stix", EVENT2_STIX.read_bytes(),
                           content_type="application/json", **auth(query_token))
    assert response.status_code == 200 and response.json()["stored"] == 1, response.content
    [prov] = store.provenance("circl.lu", "A", "149.13.33.14")
    assert prov.sensor_id == "import/stix"


SEDNIT_MISP = SAMPLES / "misp/pymisp_existing_event.json"  # MISP's own export of CIRCL's OSINT event 9747
GENERATOR_MISP = SAMPLES / "misp/pymisp_domain-ip_generator.misp.json"  # PyMISP's DomainIPObject and MISPObject
OUR_EXPORT_MISP = SAMPLES / "misp/yapdns_export_suricata-bind9.misp.json"  # passive-dns objects, template 5


def _pairs(read_observations: list[Observation]) -> list[tuple[str, str, tuple[str, ...], int, int, int]]:
    return [(o.rrname, o.rrtype, o.rdata, o.time_first, o.time_last, o.count) for o in read_observations]


def test_misps_domain_ip_objects_without_a_time_are_counted_as_no_time() -> None:
    read = read_evidence("misp", SEDNIT_MISP.read_bytes())  # 12 domain-ip objects, template version 5, no time
    assert read.observations == [] and dict(read.errors) == {"no_time": 12}


def test_with_the_objects_first_seen_the_same_domain_ip_objects_are_resolutions() -> None:
    doc = json.loads(SEDNIT_MISP.read_bytes())
    for obj in doc["Object"]:
        if obj["name"] == "domain-ip":
            obj["first_seen"] = "2017-12-21T10:00:00+01:00"  # MISP's own first_seen/last_seen of an object
    read = read_evidence("misp", json.dumps(doc).encode())
    assert read.rejects == []
    found = _pairs(read.observations)
    assert len(found) == 12 and {o[1] for o in found} == {"A"}
    assert found[0] == ("servicecdp.com", "A", ("87.236.211.182",), 1513846800, 1513846800, 1)
    assert found.count(found[0]) == 2  # the event holds the pair twice: two observations, one record


def test_domain_ip_objects_written_by_pymisp_are_read_the_same_by_the_command_and_the_upload() -> None:
    run = ParseRun(registry.parser_class("misp")())
    by_command = run.document(GENERATOR_MISP.read_bytes())
    by_upload = read_evidence("misp", GENERATOR_MISP.read_bytes())
    assert by_command == by_upload.observations and dict(by_upload.errors) == {"no_time": 1}
    assert _pairs(by_upload.observations) == [
        ("www.example.net", "A", ("192.0.2.80",), 1795778565, 1795778570, 1),  # first-seen/last-seen attributes
        ("www.example.net", "AAAA", ("2001:db8::80",), 1795778565, 1795778570, 1),
        ("mail.example.net", "A", ("192.0.2.25",), 1795778566, 1795778567, 1),  # the object's first/last_seen
    ]


def _generator_object(index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    doc = json.loads(GENERATOR_MISP.read_bytes())
    return doc, doc["Object"][index]


def test_the_first_seen_attribute_wins_over_the_objects_first_seen_and_last_seen_defaults_to_first() -> None:
    doc, obj = _generator_object(0)
    obj["first_seen"], obj["last_seen"] = "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z"
    obj["Attribute"] = [a for a in obj["Attribute"] if a["object_relation"] != "last-seen"]
    read = read_evidence("misp", json.dumps(doc).encode())
    assert {(o.time_first, o.time_last) for o in read.observations if o.rrname == "www.example.net"} == {
        (1795778565, 1795778565)}


def test_a_bad_address_rejects_its_pairs_and_a_name_alone_is_no_resolution() -> None:
    doc, obj = _generator_object(0)
    obj["Attribute"][2]["value"] = "192.0.2.999"
    doc["Object"][1]["Attribute"] = [a for a in doc["Object"][1]["Attribute"] if a["object_relation"] != "ip"]
    read = read_evidence("misp", json.dumps(doc).encode())
    assert dict(read.errors) == {"invalid_object": 1, "no_time": 1}
    assert _pairs(read.observations) == [("www.example.net", "AAAA", ("2001:db8::80",), 1795778565, 1795778570, 1)]


def test_a_first_seen_that_is_no_date_rejects_the_object() -> None:
    doc, obj = _generator_object(1)
    obj["first_seen"] = "yesterday"
    read = read_evidence("misp", json.dumps(doc).encode())
    assert dict(read.errors) == {"invalid_object": 1, "no_time": 1} and len(read.observations) == 2


def test_passive_dns_objects_of_an_older_template_version_are_read_too() -> None:
    doc = json.loads(OUR_EXPORT_MISP.read_bytes())
    for obj in doc.get("Event", doc)["Object"]:
        obj["template_version"] = "3"  # MISP keeps the version an object was written with
    older, current = read_evidence("misp", json.dumps(doc).encode()), read_evidence("misp", OUR_EXPORT_MISP.read_bytes())
    assert older.rejects == [] and len(older.observations) == 14
    assert older.observations == current.observations
