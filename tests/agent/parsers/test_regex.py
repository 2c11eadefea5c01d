"""The generic regex format: required groups, inferred types, time formats, presets, evidence."""

from __future__ import annotations

import pytest

from tests.agent.parsers.helpers import keys
from tests.agent.parsers.helpers import run_lines as parse
from yapdns.agent.parsers.base import ParserOptions
from yapdns.agent.parsers.regex import RegexParser
from yapdns.core.errors import ConfigurationError

PATTERN = r"(?P<time>\S+) (?P<rrname>\S+) (?P<rdata>\S+)(?: (?P<rrtype>[A-Z]+))?(?: ttl=(?P<ttl>\d+))?"


def test_type_is_inferred_from_the_address_family_and_evidence_is_indirect() -> None:
    produced, _ = parse("regex", ["1700000000 a.example 192.0.2.1", "1700000000.5 b.example 2001:db8::1"],
                        extra={"pattern": PATTERN})  # fmt: skip
    assert keys(produced) == [("a.example", "A", ("192.0.2.1",), None), ("b.example", "AAAA", ("2001:db8::1",), None)]
    assert {o["evidence"] for o in produced} == {"indirect"}
    assert {o["source"] for o in produced} == {"regex"}


def test_explicit_type_ttl_evidence_and_source() -> None:
    produced, _ = parse("regex", ["1700000000 www.example cdn.example CNAME ttl=300"],
                        extra={"pattern": PATTERN, "evidence": "direct", "source": "mylog"})  # fmt: skip
    assert produced == [{"rrname": "www.example", "rrtype": "CNAME", "rdata": ["cdn.example"], "ttl": 300,
                         "time_first": 1700000000, "time_last": 1700000000, "source": "mylog"}]  # fmt: skip


def test_non_address_rdata_without_a_type_is_an_error() -> None:
    _, run = parse("regex", ["1700000000 www.example cdn.example"], extra={"pattern": PATTERN})
    assert run.stats.errors == {"bad_rdata": 1}


def test_strptime_with_and_without_offset() -> None:
    pattern = r"\[(?P<time>[^\]]+)\] (?P<rrname>\S+) (?P<rdata>\S+)"
    lines = ["[27/Nov/2026:12:25:50 +0100] a.example 192.0.2.1", "[27/Nov/2026:12:25:50] b.example 192.0.2.2"]
    with_zone, _ = parse("regex", lines[:1], extra={"pattern": pattern, "time_format": "%d/%b/%Y:%H:%M:%S %z"})
    local, _ = parse("regex", lines[1:], timezone="Europe/Berlin",
                     extra={"pattern": pattern, "time_format": "%d/%b/%Y:%H:%M:%S"})  # fmt: skip
    assert with_zone[0]["time_first"] == local[0]["time_first"] == 1795778750


def test_nginx_preset_takes_the_last_upstream_tried_and_skips_dashes() -> None:
    # Real nginx 1.22 lines (golden/regex/nginx-1.22_upstream.log).
    lines = [
        "2026-11-27T12:25:51+01:00 host=pool.example.net upstream=127.0.0.3:55083, 127.0.0.1:55083 status=200",
        "2026-11-27T12:25:51+01:00 host=v6app.example.net upstream=[::1]:55083 status=200",
        "2026-11-27T12:25:52+01:00 host=nothere.example.net upstream=- status=502",
        "2026-11-27T12:25:53+01:00 host=127.0.0.1 upstream=127.0.0.1:55083 status=200",
    ]
    produced, run = parse("regex", lines, extra={"preset": "nginx-upstream"})
    assert run.stats.error_count == 0
    assert keys(produced) == [
        ("pool.example.net", "A", ("127.0.0.1",), None),
        ("v6app.example.net", "AAAA", ("::1",), None),
    ]


def test_apache_preset_strips_the_port_of_the_host_header() -> None:
    lines = [
        "1795778778 shop.example.net:39685 http://127.0.0.2:55083 200",
        "1795778778 v6app.example.net http://[::1]:55083 200",
    ]
    produced, _ = parse("regex", lines, extra={"preset": "apache-balancer"})
    assert keys(produced) == [
        ("shop.example.net", "A", ("127.0.0.2",), None),
        ("v6app.example.net", "AAAA", ("::1",), None),
    ]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"pattern": "(?P<rrname>x)"},
        {"pattern": "(?P<rrname"},
        {"preset": "nope"},
        {"pattern": PATTERN, "evidence": "hearsay"},
    ],
)
def test_bad_configuration_is_refused_at_start(extra: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        RegexParser(ParserOptions(extra=extra))


def test_a_pattern_without_time_refuses_lines() -> None:
    _, run = parse("regex", ["a.example 192.0.2.1"], extra={"pattern": r"(?P<rrname>\S+) (?P<rdata>\S+)"})
    assert run.stats.errors == {"no_timestamp": 1}
