"""STIX 2.1 and MISP exports of records through the query API, checked by stix2-validator and the MISP template."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from pymisp import MISPEvent, MISPObject
from stix2validator import ValidationOptions, validate_string

from tests.server.conftest import auth
from yapdns.core.model import Observation
from yapdns.core.normalize import normalize_observation
from yapdns.storage.base import BatchRef, Store

T0 = 1_700_000_000


def obs(rrname: str, rrtype: str, *rdata: str, first: int = T0, last: int = T0 + 3600, count: int = 3) -> Observation:
    return normalize_observation(
        Observation(rrname=rrname, rrtype=rrtype, rdata=rdata, time_first=first, time_last=last, count=count)
    )


@pytest.fixture
def loaded(store: Store) -> Store:
    store.write(
        [
            obs("www.example.com", "A", "192.0.2.1", "192.0.2.2"),
            obs("www.example.com", "AAAA", "2001:db8::1", first=T0, last=T0),  # seen within one second
            obs("alias.example.com", "CNAME", "www.example.com"),
            obs("mail.example.com", "MX", "10 mx.example.com"),
            obs("huge.example.com", "A", "198.51.100.9", count=2_000_000_000),
        ],
        BatchRef("s1", "export"),
    )
    return store


def stix_errors(text: str) -> list[str]:
    result = validate_string(text, ValidationOptions(version="2.1", strict=False))
    return [str(e) for r in ([result] if not isinstance(result, list) else result) for e in r.errors]


def export(client: Client, token: str, fmt: str, **params: str) -> Any:
    response = client.get("/api/v1/records", {"format": fmt, **params}, **auth(token))
    assert response.status_code == 200, response.content
    return response


def by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == kind]


def test_stix_bundle_of_a_search_is_valid_and_carries_the_windows(
    client: Client, loaded: Store, query_token: str
) -> None:
    response = export(client, query_token, "stix", q="*.example.com", tlp="amber")
    text = response.content.decode()
    assert stix_errors(text) == []
    bundle = json.loads(text)
    values = {(o["type"], o["value"]) for o in bundle["objects"] if "value" in o}
    assert ("ipv4-addr", "192.0.2.1") in values and ("ipv6-addr", "2001:db8::1") in values
    assert ("domain-name", "alias.example.com") in values and ("domain-name", "www.example.com") in values
    rels = by_type(bundle, "relationship")
    assert {r["relationship_type"] for r in rels} == {"resolves-to"}
    a_rel = next(
        r for r in rels if r["target_ref"].startswith("ipv4-addr") and "192.0.2.1" in _value(bundle, r["target_ref"])
    )
    assert a_rel["start_time"] == "2023-11-14T22:13:20Z" and a_rel["stop_time"] == "2023-11-14T23:13:20Z"
    same_second = next(r for r in rels if r["target_ref"].startswith("ipv6-addr"))
    assert "stop_time" not in same_second  # STIX wants stop_time later than start_time
    observed = by_type(bundle, "observed-data")
    assert {o["number_observed"] for o in observed} == {3, 999_999_999}  # capped at STIX's maximum
    assert all(o["first_observed"] <= o["last_observed"] for o in observed)
    # the TLP marking travels on every object but the marking definition itself
    amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    assert all(
        o.get("object_marking_refs") == [amber]
        for o in bundle["objects"]
        if o["type"] not in ("marking-definition", "identity")
    )
    assert response["X-YAPDNS-Skipped"] == "1"  # the MX record has no STIX form
    assert not any(k.startswith("x_") for o in bundle["objects"] for k in o)  # no custom property


def _value(bundle: dict[str, Any], ref: str) -> str:
    return next(o["value"] for o in bundle["objects"] if o["id"] == ref)


def test_one_record_exports_alone(client: Client, loaded: Store, query_token: str) -> None:
    params = {"rrname": "alias.example.com", "rrtype": "CNAME", "rdata": "www.example.com", "format": "stix"}
    bundle = client.get("/api/v1/record", params, **auth(query_token)).json()
    assert stix_errors(json.dumps(bundle)) == []
    assert [r["target_ref"].split("--")[0] for r in by_type(bundle, "relationship")] == ["domain-name"]


def template_errors(obj: MISPObject) -> list[str]:
    """What the shipped ``passive-dns`` template refuses: required fields, unknown relations, wrong types."""
    obj._validate()
    definition = obj._definition["attributes"]
    return [
        f"{a.object_relation}: {a.type}"
        for a in obj.attributes
        if a.object_relation not in definition or definition[a.object_relation]["misp-attribute"] != a.type
    ]


def test_misp_event_holds_one_passive_dns_object_per_record(client: Client, loaded: Store, query_token: str) -> None:
    body = export(client, query_token, "misp", q="*.example.com", tlp="green").json()
    event = MISPEvent()
    event.load(body)
    assert [t.name for t in event.tags] == ["tlp:green"]
    objects = [o for o in event.objects if o.name == "passive-dns"]
    assert len(objects) == 6  # every record, the MX one too
    for obj in objects:
        assert template_errors(obj) == []
    www = next(o for o in objects if o.get_attributes_by_relation("rdata")[0].value == "192.0.2.1")
    fields = {a.object_relation: a.value for a in www.attributes}
    assert fields["rrname"] == "www.example.com" and fields["rrtype"] == "A" and fields["count"] == "3"
    assert fields["time_first"].timestamp() == T0 and fields["time_last"].timestamp() == T0 + 3600
    assert all(t.name == "tlp:green" for a in www.attributes for t in a.tags)


def test_bad_export_parameters_are_400(client: Client, loaded: Store, query_token: str) -> None:
    response = client.get(
        "/api/v1/records", {"format": "stix", "q": "example.com", "tlp": "purple"}, **auth(query_token)
    )
    assert response.status_code == 400 and "tlp" in response.json()["error"]
    response = client.get(
        "/api/v1/record", {"format": "xml", "rrname": "a.b", "rrtype": "A", "rdata": "1.2.3.4"}, **auth(query_token)
    )
    assert response.status_code == 400


def test_the_name_page_links_its_export(client: Client, loaded: Store, analyst: Any) -> None:
    import html as html_lib
    import re

    client.force_login(analyst)
    page = client.get("/domain/www.example.com").content.decode()
    link = html_lib.unescape(re.search(r'id="export-stix" href="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    bundle = client.get(link)
    assert bundle.status_code == 200 and stix_errors(bundle.content.decode()) == []
    assert {o["value"] for o in json.loads(bundle.content)["objects"] if o["type"] == "ipv4-addr"} == {
        "192.0.2.1",
        "192.0.2.2",
    }
    link = html_lib.unescape(re.search(r'id="export-misp" href="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    assert len(client.get(link).json()["Object"]) == 3
