"""STIX 2.1 bundles and MISP events written by other software (misp-stix's own fixtures, in the parsers' golden
samples: tests/agent/parsers/golden/stix and misp, PROVENANCE.txt) are read by both imports: the watchlist's
indicators and the evidence of resolutions."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import ROOT
from tests.server.conftest import auth
from yapdns.agent.parsers import registry
from yapdns.agent.parsing import ParseRun
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
