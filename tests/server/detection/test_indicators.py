"""Watchlist indicators read from lines, CSV, STIX 2.1 bundles (stix2-patterns) and MISP events (PyMISP)."""

from __future__ import annotations

import datetime as dt

import pytest
import stix2
from django.test import Client
from pymisp import MISPEvent

from tests.server.conftest import auth
from yapdns.server.detection import indicators
from yapdns.server.detection.indicators import IndicatorSpec, Skipped
from yapdns.storage.base import Store


def specs(items: list[indicators.Read]) -> list[tuple[str, str]]:
    return [(i.kind, i.value) for i in items if isinstance(i, IndicatorSpec)]


def test_lines_guess_the_kind_and_normalize() -> None:
    text = "# a comment\nEvil.Example.COM.\n*.bad.example\nwww.bad.*\n192.0.2.7\n2001:db8::/32\n/^x[0-9]+\\.dga$/\nnod:example.org\n\nbad..name\n"
    read = list(indicators.read_lines(text, tlp="amber"))
    assert specs(read) == [
        ("name", "evil.example.com"),
        ("name", "*.bad.example"),
        ("name", "www.bad.*"),
        ("ip", "192.0.2.7/32"),
        ("ip", "2001:db8::/32"),
        ("regex", "^x[0-9]+\\.dga$"),
        ("nod", "example.org"),
    ]
    assert all(i.tlp == "amber" for i in read if isinstance(i, IndicatorSpec))
    assert [s.where for s in read if isinstance(s, Skipped)] == ["line 10"]


def test_csv_reads_columns_and_reports_bad_rows() -> None:
    text = "value,kind,label,tlp,expires\nc2.example,name,botnet C2,red,2030-01-01\n198.51.100.0/24,,scanner,,\n(,regex,broken,,\nx.example,name,,purple,\n"
    read = list(indicators.read_csv(text))
    good = [i for i in read if isinstance(i, IndicatorSpec)]
    assert good[0] == IndicatorSpec("name", "c2.example", "botnet C2", "red", dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert (good[1].kind, good[1].value, good[1].label) == ("ip", "198.51.100.0/24", "scanner")
    assert [s.where for s in read if isinstance(s, Skipped)] == ["line 4", "line 5"]
    assert list(indicators.read_csv("name\nx\n")) == [Skipped("header", "a CSV needs a 'value' column")]


def stix_bundle() -> str:
    """A bundle as the stix2 library writes it: indicators with patterns, one marked TLP:RED."""
    objs = [
        stix2.Indicator(
            name="C2 domain",
            pattern="[domain-name:value = 'c2.evil.example']",
            pattern_type="stix",
            valid_from="2026-01-01T00:00:00Z",
            valid_until="2027-01-01T00:00:00Z",
            object_marking_refs=[stix2.TLP_RED],
        ),
        stix2.Indicator(
            name="subdomains",
            pattern="[domain-name:value LIKE '%.evil.example'] OR [ipv4-addr:value ISSUBSET '203.0.113.0/24']",
            pattern_type="stix",
            valid_from="2026-01-01T00:00:00Z",
        ),
        stix2.Indicator(
            name="dga",
            pattern="[domain-name:value MATCHES '^[a-z]{12}\\\\.example$']",
            pattern_type="stix",
            valid_from="2026-01-01T00:00:00Z",
        ),
        stix2.Indicator(
            name="file",
            pattern="[file:hashes.'SHA-256' = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']",
            pattern_type="stix",
            valid_from="2026-01-01T00:00:00Z",
        ),
        stix2.Indicator(
            name="yara", pattern="rule x { condition: true }", pattern_type="yara", valid_from="2026-01-01T00:00:00Z"
        ),
        stix2.DomainName(value="not-an-indicator.example"),
    ]
    return stix2.Bundle(objects=objs).serialize()


def test_stix_indicators_become_entries_with_their_marking_and_expiry() -> None:
    read = list(indicators.read_stix(stix_bundle(), tlp="green"))
    assert specs(read) == [
        ("name", "c2.evil.example"),
        ("name", "*.evil.example"),
        ("ip", "203.0.113.0/24"),
        ("regex", "^[a-z]{12}\\.example$"),
    ]
    first = next(i for i in read if isinstance(i, IndicatorSpec))
    assert (
        first.tlp == "red" and first.label == "C2 domain" and first.expires_at == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    )
    assert [i.tlp for i in read if isinstance(i, IndicatorSpec)][1:] == ["green"] * 3
    reasons = [s.reason for s in read if isinstance(s, Skipped)]
    assert len(reasons) == 2 and "file:hashes" in reasons[0] and "yara" in reasons[1]


def misp_event() -> str:
    """An event as PyMISP writes it: attributes and a domain-ip object, tagged TLP:AMBER."""
    event = MISPEvent()
    event.info = "Phishing wave"
    event.add_tag("tlp:amber")
    event.add_attribute("domain", "login-bank.example", comment="landing page")
    event.add_attribute("ip-dst", "198.51.100.23")
    event.add_attribute("domain|ip", "cdn.bad.example|203.0.113.5")
    event.add_attribute("md5", "d41d8cd98f00b204e9800998ecf8427e")
    obj = event.add_object(name="domain-ip")
    obj.add_attribute("domain", value="obj.bad.example")
    obj.add_attribute("ip", value="192.0.2.99")
    return event.to_json()


def test_misp_event_attributes_and_objects_become_entries() -> None:
    read = list(indicators.read_misp(misp_event()))
    assert specs(read) == [
        ("name", "login-bank.example"),
        ("ip", "198.51.100.23/32"),
        ("name", "cdn.bad.example"),
        ("ip", "203.0.113.5/32"),
        ("name", "obj.bad.example"),
        ("ip", "192.0.2.99/32"),
    ]
    good = [i for i in read if isinstance(i, IndicatorSpec)]
    assert {i.tlp for i in good} == {"amber"}
    assert good[0].label == "landing page" and good[1].label == "Phishing wave"


@pytest.mark.parametrize("fmt", ["stix", "misp"])
def test_garbage_files_are_400_not_500(client: Client, store: Store, query_token: str, fmt: str) -> None:
    for body in (b"not json", b"[1, 2]", b"\xff\xfe"):
        response = client.post(
            f"/api/v1/indicators/parse?format={fmt}", body, content_type="application/json", **auth(query_token)
        )
        assert response.status_code == 400, (body, response.content)


def test_parse_endpoint_answers_indicators_and_skips(client: Client, store: Store, query_token: str) -> None:
    response = client.post(
        "/api/v1/indicators/parse?format=misp", misp_event(), content_type="application/json", **auth(query_token)
    )
    body = response.json()
    assert response.status_code == 200 and len(body["indicators"]) == 6 and body["skipped"] == []
    assert client.post("/api/v1/indicators/parse", "x.example", content_type="text/plain").status_code == 401
