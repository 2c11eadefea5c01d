"""Query-only server logs: the cases the golden samples do not show on their own.

Lines come from the golden logs (written by the real daemons) or have the
shapes seen in real logs quoted in GitHub issues and docs (syslog wrapping, older releases), with
data from our own generated logs.
"""

from __future__ import annotations

import pytest

from tests.agent.parsers.helpers import GOLDEN, run_lines

BIND_LINE = (
    "client @0x7efeabebd098 127.0.0.1#45221 (cdn.yapdns.test): view internal: "
    "query: cdn.yapdns.test IN A +E(0)DK (127.0.0.1)"
)
ROME = {"timezone": "Europe/Rome", "year": 2026}


def _golden_lines(path: str) -> list[str]:
    return (GOLDEN / path).read_text(encoding="utf-8").splitlines()


# -- BIND -----------------------------------------------------------------------------------------


def test_bind_stamp_inside_a_syslog_header_wins() -> None:
    line = f"Nov 27 12:21:19 ns1 named[4242]: 27-Nov-2026 12:21:18.402 queries: info: {BIND_LINE}"
    out, _ = run_lines("bind_query", [line], **ROME)
    assert [(o["rrname"], o["rrtype"], o["time_first"]) for o in out] == [("cdn.yapdns.test", "A", 1795778478)]


def test_bind_syslog_only_stamp_uses_the_timezone_and_year() -> None:
    line = f"Nov 27 12:21:18 ns1 named[4242]: {BIND_LINE}"
    rome, _ = run_lines("bind_query", [line], **ROME)
    utc, _ = run_lines("bind_query", [line], timezone="UTC", year=2026)
    assert rome[0]["time_first"] == 1795778478
    assert utc[0]["time_first"] - rome[0]["time_first"] == 3600


def test_bind_rfc3339_and_relay_headers() -> None:
    rfc3339 = f"2026-11-27T12:21:18.402+01:00 ns1 named[4242]: {BIND_LINE}"
    relay = f"<30> 2026-11-27 12:21:18 dev 192.0.2.1 named[15850]: 27-Nov-2026 12:21:18.402 {BIND_LINE}"
    out, run = run_lines("bind_query", [rfc3339, relay], timezone="Europe/Rome")
    assert [o["time_first"] for o in out] == [1795778478, 1795778478]
    assert run.stats.error_count == 0


def test_bind_93_era_line_without_flags_or_server_address() -> None:
    line = "Nov 27 12:21:18.211 queries: info: client 10.0.0.1#1050: query: 1.0.0.10.in-addr.arpa IN PTR"
    out, _ = run_lines("bind_query", [line], **ROME)
    assert [(o["rrname"], o["rrtype"], o["time_first"]) for o in out] == [("1.0.0.10.in-addr.arpa", "PTR", 1795778478)]


def test_bind_chaos_class_is_skipped_not_an_error() -> None:
    line = "27-Nov-2026 12:21:18.402 client @0x7f 127.0.0.1#5 (version.bind): query: version.bind CH TXT + (127.0.0.1)"
    out, run = run_lines("bind_query", [line], **ROME)
    assert out == [] and run.stats.error_count == 0


def test_bind_untimed_line_can_take_the_read_time() -> None:
    out, run = run_lines("bind_query", [BIND_LINE], timezone="UTC", extra={"untimed": "now"})
    assert len(out) == 1 and run.stats.error_count == 0
    _, rejected = run_lines("bind_query", [BIND_LINE], timezone="UTC")
    assert dict(rejected.stats.errors) == {"no_timestamp": 1}


# -- unbound --------------------------------------------------------------------------------------


def test_unbound_replies_only_log_gives_one_observation_per_reply() -> None:
    lines = _golden_lines("unbound/logfile_epoch_info.log")
    replies = [line for line in lines if "IN NOERROR" in line or "IN NX" in line]
    out, run = run_lines("unbound", replies)
    assert len(out) == len(replies) - 1 == 10
    assert dict(run.stats.errors) == {"lossy_name": 1}  # 'we?ird': unbound printed a space as '?'
    assert sum(o.get("rcode") == "NXDOMAIN" for o in out) == 2
    assert all("rdata" not in o for o in out)


def test_unbound_query_and_reply_are_counted_once() -> None:
    lines = _golden_lines("unbound/logfile_epoch_info.log")
    out, _ = run_lines("unbound", lines)
    questions = [line for line in lines if line.endswith(" IN") and "@" not in line]
    assert len(out) == len(questions) - 1  # the '?' name is rejected, not counted


def test_unbound_query_only_log_is_released_without_waiting_for_replies() -> None:
    query = "[1795778596] unbound[22642:0] info: 127.0.0.1 www.yapdns.test. A IN"
    parser_out, run = run_lines("unbound", [query] * 100)
    assert len(parser_out) == 100
    assert run.stats.observations == 100


def test_unbound_syslog_prefixes() -> None:
    openbsd = "Nov 27 12:23:39 black unbound: [79652:0] info: 192.168.10.8 asset.wsj.net. A IN NXDOMAIN 0.095659 0 134"
    rfc3339 = "2026-11-27T06:23:39.814490-05:00 arrakis unbound: [2541:0] info: 127.0.0.1 talkgadget.google.com. A IN"
    out, run = run_lines("unbound", [openbsd, rfc3339], **ROME)
    assert run.stats.error_count == 0
    assert [(o["rrname"], o.get("rcode"), o["time_first"]) for o in out] == [
        ("asset.wsj.net", "NXDOMAIN", 1795778619),
        ("talkgadget.google.com", None, 1795778619),
    ]


# -- PowerDNS Recursor ----------------------------------------------------------------------------


def test_pdns_5x_structured_line_behind_syslog_header() -> None:
    lines = [f"Nov 27 12:24:16 resolver pdns_recursor[1506403]: {line[16:]}"
             for line in _golden_lines("pdns_recursor/structured_stdout.log")[:2]]
    out, run = run_lines("pdns_recursor", lines, **ROME)
    assert run.stats.error_count == 0
    assert [(o["rrname"], o["rrtype"], o["time_first"]) for o in out] == [("www.yapdns.test", "A", 1795778656)]


def test_pdns_41_answer_line_without_rcode_keeps_a_bare_query() -> None:
    lines = [
        "Nov 27 16:14:18 19 [1149/1] question for 'weibo.com|A' from 10.3.138.27",
        "Nov 27 16:14:19 19 [1149/1] answer to question 'weibo.com|A': 0 answers, 0 additional, took 1 packets, "
        "1621.67 netw ms, 1622.34 tot ms, 0 throttled, 1 timeout",
    ]
    out, _ = run_lines("pdns_recursor", lines, timezone="UTC", year=2026)
    assert [(o["rrname"], o.get("rcode")) for o in out] == [("weibo.com", None)]


def test_pdns_unknown_rcode_is_an_error() -> None:
    line = _golden_lines("pdns_recursor/structured_stdout.log")[1].replace('rcode="0"', 'rcode="4097"')
    out, run = run_lines("pdns_recursor", [line], timezone="UTC")
    assert out == [] and dict(run.stats.errors) == {"bad_rcode": 1}


# -- CoreDNS --------------------------------------------------------------------------------------

COREDNS = (
    '[INFO] 10.244.0.5:36255 - 36946 "AAAA IN nosuch.example.org. udp 77 false 4096" NXDOMAIN qr,aa,rd 106 0.0002139s'
)


def test_coredns_docker_json_wrapper_time_is_used() -> None:
    escaped = COREDNS.replace('"', '\\"')
    wrapped = '{"log":"' + escaped + '\\n","stream":"stdout","time":"2022-03-18T07:12:15.699431183Z"}'
    out, _ = run_lines("coredns", [wrapped])
    assert [(o["rrname"], o["rrtype"], o.get("rcode"), o["time_first"]) for o in out] == [
        ("nosuch.example.org", "AAAA", "NXDOMAIN", 1647587535)
    ]


def test_coredns_cri_log_and_combined_format() -> None:
    line = f'2022-03-18T07:12:15.699431183Z stdout F {COREDNS} "0"'
    out, _ = run_lines("coredns", [line])
    assert [o["time_first"] for o in out] == [1647587535]


def test_coredns_no_response_rcode_dash_is_a_bare_query() -> None:
    line = '2022-03-18T07:12:15Z [INFO] [::1]:50759 - 28625 "A IN 9gag.com. udp 49 false 4096" - - 0 6.010923182s'
    out, _ = run_lines("coredns", [line])
    assert out[0].get("rcode") is None and "rdata" not in out[0]


# -- every query-log format -----------------------------------------------------------------------


MY_LINE_FORMATS = ["bind_query", "unbound", "pdns_recursor", "coredns", "msdns", "squid", "sysmon", "dnsdb"]


@pytest.mark.parametrize("fmt", MY_LINE_FORMATS)
@pytest.mark.parametrize(
    "junk",
    ["\x00\x01\x02garbage\x7f", "caf\udcc3\udca9 \udcff\udcfe binary", "\ufffd\ufffd replaced bytes"],
    ids=["control", "bad-utf8", "replacement"],
)
def test_binary_junk_is_counted_never_a_crash(fmt: str, junk: str) -> None:
    out, run = run_lines(fmt, [junk], timezone="UTC")
    assert out == []
    assert run.stats.error_count == 1
    assert "parser_crash" not in run.stats.errors


@pytest.mark.parametrize("fmt", MY_LINE_FORMATS)
def test_huge_line_is_refused(fmt: str) -> None:
    out, run = run_lines(fmt, ["x" * 70_000], timezone="UTC")
    assert out == [] and dict(run.stats.errors) == {"line_too_long": 1}
