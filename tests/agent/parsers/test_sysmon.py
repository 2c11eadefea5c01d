"""Sysmon Event ID 22: XML renderings, winlogbeat and Azure JSON, QueryResults edge cases.

The XML follows the shape python-evtx renders (seen in real GPL-licensed
samples, EVTX-ATTACK-SAMPLES and hayabusa-sample-evtx, not committed); its data is a real OTRF event (MIT), the
first line of the golden sample.
"""

from __future__ import annotations

import json

import pytest

from tests.agent.parsers.helpers import GOLDEN, run_lines

OTRF = (GOLDEN / "sysmon" / "otrf_security_datasets_sysmon22.ndjson").read_text(encoding="utf-8").splitlines()
EVENT = json.loads(OTRF[0])  # arc.msn.com: a CNAME and a v4-mapped address
EXPECTED = [
    ("arc.msn.com", "CNAME", ["arc.msn.com.nsatc.net"]),
    ("arc.msn.com.nsatc.net", "A", ["52.179.129.229"]),
]


def _xml(event: dict[str, str], event_id: int = 22) -> list[str]:
    data = "\n".join(
        f'<Data Name="{name}">{event[name]}</Data>'
        for name in ("RuleName", "UtcTime", "ProcessGuid", "ProcessId", "QueryName", "QueryStatus", "QueryResults")
    )
    return (
        '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
        '<Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"></Provider>\n'
        f'<EventID Qualifiers="">{event_id}</EventID>\n<Version>5</Version>\n'
        f'<Computer>{event["Hostname"]}</Computer>\n</System>\n'
        f"<EventData>{data}\n</EventData>\n</Event>"
    ).splitlines()


def _summary(out: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(o["rrname"], o["rrtype"], o.get("rdata")) for o in out]


def test_multi_line_xml_event() -> None:
    out, run = run_lines("sysmon", ["<?xml version='1.0' encoding='utf-8'?>", "<Events>", *_xml(EVENT), "</Events>"])
    assert run.stats.error_count == 0
    assert _summary(out) == EXPECTED
    assert {o["evidence"] for o in out} == {"indirect"} and {o["time_first"] for o in out} == {1591757468}


def test_several_xml_events_on_one_line_and_other_event_ids_skipped() -> None:
    line = "<Events>" + "".join(_xml(EVENT, 3)) + "".join(_xml(EVENT)) + "".join(_xml(EVENT)) + "</Events>"
    out, _ = run_lines("sysmon", [line])
    assert _summary(out) == EXPECTED * 2


def test_bad_xml_event_keeps_the_good_ones_of_its_line() -> None:
    bad = "".join(_xml(EVENT)).replace("</EventData>", "</EventDat>")
    line = "".join(_xml(EVENT)) + bad + "".join(_xml(EVENT))
    out, run = run_lines("sysmon", [line])
    assert _summary(out) == EXPECTED * 2
    assert dict(run.stats.errors) == {"bad_xml": 1}


@pytest.mark.parametrize(
    "doctype",
    ['<!DOCTYPE Event [<!ENTITY a "aaaaaaaaaa">]>', '<!DOCTYPE Event SYSTEM "file:///etc/passwd">'],
    ids=["entity", "external"],
)
def test_dtds_and_entities_are_refused(doctype: str) -> None:
    lines = _xml(EVENT)
    out, run = run_lines("sysmon", [lines[0].replace("<Event ", f"<Event>{doctype}<Event ", 1), *lines[1:]])
    assert out == [] and run.stats.error_count >= 1


def test_input_ending_inside_an_event_is_reported() -> None:
    out, run = run_lines("sysmon", _xml(EVENT)[:-2])
    assert out == [] and dict(run.stats.errors) == {"truncated": 1}


def test_winlogbeat_event_data() -> None:
    fields = {k: EVENT[k] for k in ("UtcTime", "QueryName", "QueryStatus", "QueryResults", "Image")}
    line = json.dumps({"@timestamp": "2020-06-10T02:51:14.943Z", "winlog": {"event_id": "22", "event_data": fields}})
    other = json.dumps({"winlog": {"event_id": 1, "event_data": fields}})
    out, run = run_lines("sysmon", [line, other])
    assert _summary(out) == EXPECTED and run.stats.error_count == 0


def test_azure_event_data_string_uses_its_iso_utc_time() -> None:
    out, _ = run_lines("sysmon", [OTRF[-1]])
    assert [(o["rrname"], o["rrtype"], o["rdata"], o["time_first"]) for o in out] == [
        ("localhost", "A", ["127.0.0.1"], 1652432050)
    ]


@pytest.mark.parametrize(
    ("status", "results", "expected"),
    [
        ("0", "-", [("host.example", "TYPE0", None, None)]),  # success without results: a bare query
        ("9003", "type:  5 a.example;", [("host.example", "CNAME", ["a.example"], None),
                                         ("a.example", "TYPE0", None, "NXDOMAIN")]),
        ("9501", "type:  6 ;192.0.2.1;", [("host.example", "TYPE0", None, "NODATA")]),  # the SOA's address is not ours
        ("1460", "-", [("host.example", "TYPE0", None, None)]),  # timeout: asked, outcome unknown
        ("0", "type:  15 ;", [("host.example", "MX", None, None)]),  # typed but empty: never filled in
        ("0", "2001:DB8::1;192.0.2.7;", [("host.example", "A", ["192.0.2.7"], None),
                                         ("host.example", "AAAA", ["2001:db8::1"], None)]),
    ],
)
def test_query_results_and_status(status: str, results: str, expected: list[tuple[object, ...]]) -> None:
    line = json.dumps({"EventID": 22, "UtcTime": "2020-06-10 02:51:08.943", "QueryName": "HOST.example.",
                       "QueryStatus": status, "QueryResults": results})
    out, _ = run_lines("sysmon", [line])
    assert [(o["rrname"], o["rrtype"], o.get("rdata"), o.get("rcode")) for o in out] == expected


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"QueryStatus": "0", "QueryResults": "::ffff:999.1.1.1;"}, "bad_format"),
        ({"QueryStatus": "0", "QueryResults": "type:  x y;"}, "bad_format"),
        ({"QueryStatus": "zero", "QueryResults": "-"}, "bad_format"),
        ({"QueryStatus": "0", "QueryResults": "-", "UtcTime": "yesterday"}, "bad_time"),
        ({"QueryStatus": "0", "QueryResults": "-", "QueryName": None}, "missing_field"),
    ],
)
def test_malformed_events_are_errors(fields: dict[str, object], code: str) -> None:
    event = {"EventID": 22, "UtcTime": "2020-06-10 02:51:08.943", "QueryName": "host.example", **fields}
    out, run = run_lines("sysmon", [json.dumps(event)])
    assert out == [] and dict(run.stats.errors) == {code: 1}
