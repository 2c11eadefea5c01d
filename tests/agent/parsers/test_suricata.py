"""Suricata eve.json DNS events of every version.

v2 events here are real Suricata 7.0.10 output (golden/suricata/). No Suricata 4
(v1) or 8 (v3) can run here, so those events follow the shapes documented in
Suricata's eve-json-format and 8.0 upgrade guides, with values of our own.
"""

from __future__ import annotations

import json

from tests.agent.parsers.helpers import keys
from tests.agent.parsers.helpers import run_lines as parse

STAMP = "2026-11-27T12:22:45.955457+0100"  # 11:22:45 UTC
WHEN = 1795778565


def event(dns: dict[str, object], event_type: str = "dns") -> str:
    return json.dumps({"timestamp": STAMP, "flow_id": 1, "event_type": event_type, "src_ip": "127.0.0.1",
                       "dest_ip": "127.0.0.1", "proto": "UDP", "dns": dns})  # fmt: skip


V3_RESPONSE = {
    "version": 3, "type": "response", "tx_id": 1, "id": 7, "flags": "8180", "qr": True, "rd": True, "ra": True,
    "opcode": 0, "rcode": "NOERROR", "queries": [{"rrname": "www.example.net", "rrtype": "A"}],
    "answers": [
        {"rrname": "www.example.net", "rrtype": "CNAME", "ttl": 3600, "rdata": "web.example.net"},
        {"rrname": "web.example.net", "rrtype": "A", "ttl": 60, "rdata": "192.0.2.80"},
        {"rrname": "web.example.net", "rrtype": "A", "ttl": 30, "rdata": "192.0.2.81"},
    ],
    "authorities": [{"rrname": "example.net", "rrtype": "NS", "ttl": 3600, "rdata": "ns1.example.net"},
                    {"rrname": "evil.example", "rrtype": "NS", "ttl": 3600, "rdata": "ns.evil.example"}],
    "additionals": [{"rrname": "ns1.example.net", "rrtype": "A", "ttl": 3600, "rdata": "192.0.2.53"}],
}  # fmt: skip


def test_v3_response_gives_rrsets_with_the_smallest_ttl_and_utc_time() -> None:
    produced, _ = parse("suricata", [event(V3_RESPONSE)])
    assert keys(produced) == [
        ("www.example.net", "CNAME", ("web.example.net",), None),
        ("web.example.net", "A", ("192.0.2.80", "192.0.2.81"), None),
    ]
    assert [o["ttl"] for o in produced] == [3600, 30]
    assert {o["time_first"] for o in produced} == {WHEN}


def test_authorities_only_on_request_and_only_in_bailiwick() -> None:
    produced, _ = parse("suricata", [event(V3_RESPONSE)], extra={"authorities": "keep"})
    assert ("example.net", "NS", ("ns1.example.net",), None) in keys(produced)
    assert all(o["rrname"] != "evil.example" for o in produced)
    assert all(o["rrname"] != "ns1.example.net" for o in produced)  # additionals are never used


def test_v3_nxdomain_and_requests() -> None:
    nx = {"version": 3, "type": "response", "opcode": 0, "rcode": "NXDOMAIN",
          "queries": [{"rrname": "nothere.example.net", "rrtype": "AAAA"}]}  # fmt: skip
    request = {"version": 3, "type": "request", "opcode": 0, "queries": [{"rrname": "q.example", "rrtype": "A"}]}
    assert keys(parse("suricata", [event(nx), event(request)])[0]) == [("nothere.example.net", "AAAA", (), "NXDOMAIN")]
    kept, _ = parse("suricata", [event(request)], extra={"queries": "keep"})
    assert keys(kept) == [("q.example", "A", (), None)]


def test_v1_one_event_per_answer_rr() -> None:
    answers = [
        {"type": "answer", "id": 1, "rcode": "NOERROR", "rrname": "www.example.net", "rrtype": "CNAME", "ttl": 300,
         "rdata": "web.example.net"},
        {"type": "answer", "id": 1, "rcode": "NOERROR", "rrname": "web.example.net", "rrtype": "AAAA", "ttl": 60,
         "rdata": "2001:0db8:0000:0001:0000:0000:0000:0080"},
        {"type": "answer", "id": 2, "rcode": "NXDOMAIN", "rrname": "nothere.example.net", "rrtype": "A"},
        {"type": "query", "id": 3, "rrname": "q.example", "rrtype": "A", "tx_id": 0},
    ]  # fmt: skip
    produced, _ = parse("suricata", [event(a) for a in answers])
    assert keys(produced) == [
        ("www.example.net", "CNAME", ("web.example.net",), None),
        ("web.example.net", "AAAA", ("2001:db8:0:1::80",), None),
        ("nothere.example.net", "A", (), "NXDOMAIN"),
    ]


def test_grouped_only_reads_the_cname_chain_in_logged_order() -> None:
    # Real Suricata 7 grouped-only event (alias.example.net, formats: [grouped]).
    dns = {"version": 2, "type": "answer", "id": 24402, "flags": "8500", "qr": True, "aa": True, "rd": True,
           "opcode": 0, "rrname": "alias.example.net", "rrtype": "A", "rcode": "NOERROR",
           "grouped": {"CNAME": ["www.example.net", "web.example.net"], "A": ["192.0.2.82", "192.0.2.81"]}}  # fmt: skip
    assert keys(parse("suricata", [event(dns)])[0]) == [
        ("alias.example.net", "CNAME", ("www.example.net",), None),
        ("www.example.net", "CNAME", ("web.example.net",), None),
        ("web.example.net", "A", ("192.0.2.81", "192.0.2.82"), None),
    ]


def test_incomplete_records_are_not_used() -> None:
    dns = {"version": 2, "type": "answer", "opcode": 0, "rrname": "example.net", "rrtype": "TXT", "rcode": "NOERROR",
           "answers": [{"rrname": "example.net", "rrtype": "MX", "ttl": 1, "rdata": "mail.example.net"},
                       {"rrname": "example.net", "rrtype": "TXT", "ttl": 1, "rdata": "first string"},
                       {"rrname": "example.net", "rrtype": "TXT", "ttl": 1, "rdata": "second string"},
                       {"rrname": "example.net", "rrtype": "NULL", "ttl": 1, "rdata": "0a0b"}]}  # fmt: skip
    produced, run = parse("suricata", [event(dns)])
    assert produced == [] and run.stats.error_count == 0


def test_other_event_types_and_alerts_are_skipped_without_error() -> None:
    alert = event({"query": [{"rrname": "x.example", "rrtype": "A"}]}, event_type="alert")
    flow = json.dumps({"timestamp": STAMP, "event_type": "flow", "app_proto": "dns"})
    produced, run = parse("suricata", [alert, flow, '{"event_type":"stats","stats":{"dns":1}}'])
    assert produced == [] and run.stats.error_count == 0


def test_event_without_timestamp_is_refused() -> None:
    _, run = parse("suricata", [json.dumps({"event_type": "dns", "dns": V3_RESPONSE})])
    assert run.stats.errors == {"missing_field": 1}
