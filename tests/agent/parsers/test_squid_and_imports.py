"""Squid URL/host edge cases; DNSDB SAF framing and rdata rows; VirusTotal pages.

Squid lines are edits of lines of the golden log written by Squid 5.7. The
DNSDB SAF lines follow the documented framing (no real capture is
redistributable); their result objects are the dnsdbq man page's.
"""

from __future__ import annotations

import json

import pytest

from tests.agent.parsers.helpers import GOLDEN, run_lines

SQUID = (GOLDEN / "squid" / "access_native.log").read_text(encoding="utf-8").splitlines()
GET = SQUID[0]  # GET http://www.yapdns.test:54725/ - HIER_DIRECT/127.0.0.1
CONNECT = SQUID[8]  # CONNECT www.yapdns.test:45917 - HIER_DIRECT/127.0.0.1


def _url(line: str, url: str) -> str:
    fields = line.split()
    fields[6] = url
    return " ".join(fields)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (_url(GET, "http://user:pw@WWW.Example.ORG.:8080/a?b#c"), ("www.example.org", "A", ["127.0.0.1"])),
        (_url(GET, "https://xn--bcher-kva.example/"), ("xn--bcher-kva.example", "A", ["127.0.0.1"])),
        (_url(CONNECT, "mail.example.org:993"), ("mail.example.org", "A", ["127.0.0.1"])),
        (GET.replace("HIER_DIRECT/127.0.0.1", "HIER_DIRECT/2001:DB8::1"), ("www.yapdns.test", "AAAA", ["2001:db8::1"])),
    ],
)
def test_squid_hosts(line: str, expected: tuple[object, ...]) -> None:
    out, _ = run_lines("squid", [line])
    assert [(o["rrname"], o["rrtype"], o["rdata"]) for o in out] == [expected]
    assert out[0]["evidence"] == "indirect" and out[0]["time_first"] == 1795778739


@pytest.mark.parametrize(
    "line",
    [
        _url(CONNECT, "[2001:db8::5]:443"),  # IP-literal host
        GET.replace("HIER_DIRECT/127.0.0.1", "FIRST_UP_PARENT/192.0.2.8"),  # the address is a proxy's
        GET.replace("HIER_DIRECT/127.0.0.1", "ORIGINAL_DST/192.0.2.8"),  # the client chose the address
        GET.replace("HIER_DIRECT/127.0.0.1", "DIRECT/www.yapdns.test"),  # Squid 2: a host name, no address
        _url(GET, "error:invalid-request"),
        "",
    ],
)
def test_squid_lines_without_dns_evidence_are_skipped_not_errors(line: str) -> None:
    out, run = run_lines("squid", [line])
    assert out == [] and run.stats.error_count == 0


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("1795778739.674 2 127.0.0.1 TCP_MISS/200 298 GET", "bad_format"),  # not the native logformat
        ('127.0.0.1 - - [27/Nov/2026:12:25:39 +0100] "GET http://www.yapdns.test/ HTTP/1.1" 200 298 '
         "TCP_MISS:HIER_DIRECT", "bad_time"),  # the common logformat has no server address
        (GET.replace("1795778739.674", "yesterday"), "bad_time"),
    ],
)
def test_squid_malformed_lines_are_errors(line: str, code: str) -> None:
    out, run = run_lines("squid", [line])
    assert out == [] and dict(run.stats.errors) == {code: 1}


# -- DNSDB ----------------------------------------------------------------------------------------

MAN_PAGE = (GOLDEN / "dnsdb" / "dnsdbq_man_examples.json").read_text(encoding="utf-8")
RRSET = {
    "count": 6350, "time_first": 1380123423, "time_last": 1427869045, "rrname": "farsightsecurity.com.",
    "rrtype": "A", "bailiwick": "farsightsecurity.com.", "rdata": ["66.160.140.81"],
}


def _saf(*objects: dict[str, object], end: str = '{"cond":"succeeded"}') -> list[str]:
    return ['{"cond":"begin"}', *(json.dumps({"obj": o}) for o in objects), "{}", end]


def test_saf_stream_of_rrset_rows() -> None:
    out, run = run_lines("dnsdb", _saf(RRSET, {**RRSET, "rdata": ["66.160.140.81", "2001:DB8::1"], "rrtype": "AAAA"}))
    assert run.stats.errors == {"bad_rdata": 1}  # an IPv4 address cannot be AAAA rdata: that RRset is rejected
    assert [(o["rrname"], o["rdata"], o["count"], o["bailiwick"]) for o in out] == [
        ("farsightsecurity.com", ["66.160.140.81"], 6350, "farsightsecurity.com")
    ]


def test_rdata_rows_and_zone_times() -> None:
    row = {"count": 1, "zone_time_first": 1349367341, "zone_time_last": 1440606099, "rrname": "mocked.data.net.",
           "rrtype": "A", "bailiwick": "net.", "rdata": "192.0.2.1"}
    mixed = {**row, "rrname": "both.data.net.", "time_first": 1400000000, "time_last": 1400000100, "count": 5}
    out, _ = run_lines("dnsdb", [json.dumps(row), json.dumps(mixed)])
    times = ("time_first", "time_last", "zone_time_first", "zone_time_last", "count")
    assert [(o["rrname"], o["rdata"], *(o.get(k) for k in times)) for o in out] == [
        ("mocked.data.net", ["192.0.2.1"], None, None, 1349367341, 1440606099, None),  # a zone-only row: zone times
        ("both.data.net", ["192.0.2.1"], 1400000000, 1400000100, 1349367341, 1440606099, 5),  # both pairs kept
    ]


def test_saf_failure_is_reported_and_limited_is_not() -> None:
    failed, run = run_lines("dnsdb", _saf(RRSET, end='{"cond":"failed","msg":"Query timed out"}'))
    assert len(failed) == 1 and dict(run.stats.errors) == {"saf_failed": 1}
    limited, run = run_lines("dnsdb", _saf(RRSET, end='{"cond":"limited","msg":"Result limit reached"}'))
    assert len(limited) == 1 and run.stats.error_count == 0


def test_pretty_printed_object_cut_short_is_reported() -> None:
    lines = MAN_PAGE.splitlines()
    out, run = run_lines("dnsdb", lines[:-3])
    assert len(out) == 1 and dict(run.stats.errors) == {"truncated": 1}


@pytest.mark.parametrize(
    ("row", "code"),
    [
        ({"rrname": "a.example.", "rrtype": "A", "rdata": ["192.0.2.1"]}, "missing_field"),
        ({"rrname": "a.example.", "rrtype": "A", "rdata": [], "time_first": 1, "time_last": 2}, "missing_field"),
        ({"rrname": "a.example.", "rrtype": "A", "rdata": "192.0.2.1", "time_first": "x"}, "bad_json"),
    ],
)
def test_bad_dnsdb_rows(row: dict[str, object], code: str) -> None:
    out, run = run_lines("dnsdb", [json.dumps(row)])
    assert out == [] and dict(run.stats.errors) == {code: 1}


# -- VirusTotal -----------------------------------------------------------------------------------

VT = json.loads((GOLDEN / "virustotal" / "documented_schema_resolutions.json").read_text(encoding="utf-8"))


def test_vt_pages_one_per_line() -> None:
    first, second = dict(VT, data=VT["data"][:1]), dict(VT, data=VT["data"][1:2])
    out, run = run_lines("virustotal", [json.dumps(first), json.dumps(second)])
    summary = [(o["rrtype"], o["rdata"], o.get("count", 1)) for o in out]  # the wire form omits count 1
    assert summary == [("A", ["192.0.2.10"], 1), ("AAAA", ["2001:db8::10"], 1)]
    assert run.stats.error_count == 0


def test_vt_resolution_without_date_is_rejected_alone() -> None:
    doc = dict(VT, data=[VT["data"][0], {"type": "resolution", "attributes": {"host_name": "a.example"}}])
    out, run = run_lines("virustotal", [json.dumps(doc)])
    assert len(out) == 1 and run.stats.error_count == 1


def test_vt_not_json() -> None:
    out, run = run_lines("virustotal", ["<html>rate limited</html>"])
    assert out == [] and dict(run.stats.errors) == {"bad_json": 1}
