"""Bad and hostile input to the sandbox parsers: counted under a reason, never a crash, never invented rdata."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yapdns.agent.parsers._sandbox import presentation_name
from yapdns.agent.parsers.base import ParserOptions
from yapdns.agent.parsers.cuckoo_report import CuckooReportParser
from yapdns.agent.parsers.dnsdump import DnsDumpParser
from yapdns.agent.parsers.dnsdump2 import DnsDump2Parser
from yapdns.agent.parsers.thug import ThugParser
from yapdns.agent.parsing import ParseRun
from yapdns.core.errors import InvalidName
from yapdns.core.names import normalize_name

SHA = "ab" * 32
GOOD = f"1300475168.5\tpacket\t7\t{SHA}\tevil.example\tA\tanswer\t-\tA\t192.0.2.1"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("1.0\tpacket\t7", "field_count"),
        (GOOD.replace("1300475168.5", "yesterday"), "bad_time"),
        (GOOD.replace("1300475168.5", "nan"), "bad_time"),
        (GOOD.replace("answer", "guess"), "bad_value"),
        (GOOD.replace(SHA, "not-a-hash"), "bad_value"),
        (GOOD.replace("\t192.0.2.1", "\t-"), "missing_field"),
        (GOOD.replace("\t192.0.2.1", "\t999.1.1.1"), "bad_rdata"),
        (GOOD.replace("evil.example", "a" * 300 + ".example"), "bad_name"),
        ("#format\tdnsdump9", "wrong_format"),
        ("#fields\tts\tqname", "bad_header"),
    ],
)
def test_dnsdump2_bad_lines_are_counted(line: str, code: str) -> None:
    run = ParseRun(DnsDump2Parser())
    assert list(run.lines([line])) == []
    assert dict(run.stats.errors) == {code: 1}


def test_dnsdump2_reads_a_file_from_the_middle_and_binary_noise() -> None:
    run = ParseRun(DnsDump2Parser())
    observed = list(run.lines([GOOD, "\x00\xff\udcff garbage", GOOD.replace("evil", "caf\udce9")]))
    assert [o.rrname for o in observed] == ["evil.example", "caf\\233.example"]
    assert run.stats.error_count == 1


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("2016-08-01T12:00:00\tevil.example\tA", "field_count"),
        ("not a time\tevil.example\tA\t192.0.2.1", "bad_time"),
        ("2016-08-01T12:00:00\tevil..example\tA\t192.0.2.1", "bad_name"),
    ],
)
def test_legacy_dnsdump_bad_lines_are_counted(line: str, code: str) -> None:
    run = ParseRun(DnsDumpParser(ParserOptions(timezone="UTC")))
    assert list(run.lines([line])) == []
    assert dict(run.stats.errors) == {code: 1}


def test_legacy_dnsdump_reads_local_time_in_the_given_zone() -> None:
    line = "2016-08-01T14:00:00.250000\tevil.example\tA\t192.0.2.1"
    (obs,) = ParseRun(DnsDumpParser(ParserOptions(timezone="Europe/Rome"))).lines([line])
    assert obs.time_first == 1470052800  # 12:00 UTC: Rome is UTC+2 in August
    (truncated,) = ParseRun(DnsDumpParser(ParserOptions(timezone="UTC"))).lines([line.replace("A\t", "MX\t")])
    assert (truncated.rrtype, truncated.rdata) == ("TYPE0", ())  # an MX without preference is not rdata


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (b"{not json", "bad_json"),
        (b'{"info": {"id": 1}}', "no_network"),
        (b'{"network": {"dns": {"a": 1}}}', "bad_value"),
        (b'{"network": {"dns": [{"request": "a.example", "type": "A", "answers": []}]}}', "no_time"),
    ],
)
def test_cuckoo_report_bad_documents_are_counted(document: bytes, code: str) -> None:
    run = ParseRun(CuckooReportParser())
    assert list(run.document(document)) == []
    assert dict(run.stats.errors) == {code: 1}


def test_cuckoo_report_odd_entries_are_skipped_and_the_rest_kept() -> None:
    report = {
        "info": {"id": 3, "started": 1470052800},  # Cuckoo 2.0.x report.json: local wall clock as if UTC
        "target": {"category": "url", "url": "http://x.example/"},
        "network": {"dns": [
            "junk",
            {"request": 42, "type": "A", "answers": []},
            {"request": "ok.example", "type": ["A"], "answers": "junk"},
            {"request": "a.example", "type": "A", "answers": [{"type": "A", "data": "192.0.2.9"}, {"type": "A"}]},
        ]},
    }
    parser = CuckooReportParser(ParserOptions(timezone="Europe/Rome"))
    run = ParseRun(parser)
    observed = list(run.document(json.dumps(report).encode()))
    assert [(o.rrname, o.rrtype, o.rdata, o.sample) for o in observed] == [
        ("ok.example", "TYPE0", (), None),  # a URL task: no sample to link
        ("a.example", "A", ("192.0.2.9",), None),
    ]
    assert {o.time_first for o in observed} == {1470045600}  # 12:00 in Rome = 10:00 UTC


@pytest.mark.parametrize(
    ("document", "code"),
    [(b"[]", "bad_json"), (b'{"logtype": "other"}', "wrong_format"), (b'{"logtype": "json-log"}', "no_time")],
)
def test_thug_bad_documents_are_counted(document: bytes, code: str) -> None:
    run = ParseRun(ThugParser())
    assert list(run.document(document)) == []
    assert dict(run.stats.errors) == {code: 1}


def test_thug_keeps_host_names_only() -> None:
    log = {
        "logtype": "json-log",
        "timestamp": "2024-05-01 10:00:00.123456",
        "url": "http://Bücher.example:8080/x",
        "connections": [
            {"source": "about:blank", "destination": "javascript:alert(1)"},
            {"source": "data:text/html,hi", "destination": "http://[2001:db8::1]/"},
            {"source": "http://[broken", "destination": "https://cdn.example/a.js"},
        ],
        "locations": [{"url": "http://198.51.100.7/p.exe"}, {"url": None}, "junk"],
    }
    observed = list(ParseRun(ThugParser(ParserOptions(timezone="UTC"))).document(json.dumps(log).encode()))
    assert [(o.rrname, o.rrtype, o.rdata) for o in observed] == [
        ("xn--bcher-kva.example", "TYPE0", ()),
        ("cdn.example", "TYPE0", ()),
    ]


@given(st.binary(min_size=0, max_size=80))
def test_any_recorded_name_is_presentable_and_normalizes_or_is_refused(raw: bytes) -> None:
    name = presentation_name(raw)
    if name is None:
        return
    assert "\t" not in name and "\n" not in name
    with contextlib.suppress(InvalidName):  # refused with a reason is fine; any other error is a bug
        normalize_name(name)
