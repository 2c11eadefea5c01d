"""Zeek dns.log rows: headers, escapes, unset/empty, rcodes, JSON variants, skipped rows."""

from __future__ import annotations

import json

from tests.agent.parsers.helpers import keys
from tests.agent.parsers.helpers import run_lines as parse

HEADER = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tdns",
    "#open\t2024-04-12-19-29-12",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name"
    "\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount"
    "\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool",
]


def row(query: str, qtype: str, rcode: str, answers: str, ttls: str, tc: str = "F", port: str = "53") -> str:
    codes = {"A": "1", "AAAA": "28", "TXT": "16", "PTR": "12", "-": "-"}
    rcodes = {"NOERROR": "0", "NXDOMAIN": "3", "SERVFAIL": "2", "-": "-"}
    return "\t".join(
        ["1521911720.865716", "CqKst53mF3det3eDV9", "10.47.1.100", "41772", "10.0.0.100", port, "udp", "36329",
         "0.000870", query, "1", "C_INTERNET", codes[qtype], qtype, rcodes[rcode], rcode, "F", tc, "T", "T", "0",
         answers, ttls, "F"]
    )  # fmt: skip


def test_a_real_row_becomes_a_cname_and_an_a_rrset() -> None:
    produced, _ = parse("zeek", [*HEADER, row("ise.wrccdc.org", "A", "NOERROR", "ise.wrccdc.cpp.edu,134.71.3.16",
                                              "2230.000000,41830.000000"), "#close\t2024-04-12-19-34-07"])  # fmt: skip
    assert produced == [
        {"rrname": "ise.wrccdc.org", "rrtype": "CNAME", "rdata": ["ise.wrccdc.cpp.edu"], "ttl": 2230,
         "time_first": 1521911720, "time_last": 1521911720, "source": "zeek"},
        {"rrname": "ise.wrccdc.cpp.edu", "rrtype": "A", "rdata": ["134.71.3.16"], "ttl": 41830,
         "time_first": 1521911720, "time_last": 1521911720, "source": "zeek"},
    ]  # fmt: skip


def test_rcodes_nodata_bare_queries_and_truncation() -> None:
    lines = [
        *HEADER,
        row("videosearch.ubuntu.com", "A", "NXDOMAIN", "-", "-"),
        row("psu.edu", "AAAA", "NOERROR", "(empty)", "(empty)"),
        row("big.example", "TXT", "NOERROR", "-", "-", tc="T"),
        row("forums.jerry.land", "A", "-", "-", "-"),
        row("a.example", "A", "NXDOMAIN", "b.example", "60.0"),
    ]
    produced, _ = parse("zeek", lines)
    assert keys(produced) == [
        ("videosearch.ubuntu.com", "A", (), "NXDOMAIN"),
        ("psu.edu", "AAAA", (), "NODATA"),
        ("forums.jerry.land", "A", (), None),
        ("a.example", "CNAME", ("b.example",), None),
        ("b.example", "A", (), "NXDOMAIN"),  # the rcode is about the end of the chain
    ]


def test_escapes_in_names_and_txt_strings() -> None:
    lines = [*HEADER, row("caf\\xc3\\xa9.example", "TXT", "NOERROR", "TXT 3 a\\x2cb", "60.0")]
    produced, _ = parse("zeek", lines)
    assert keys(produced) == [("xn--caf-dma.example", "TXT", ('"a,b"',), None)]


def test_fields_header_changing_mid_file_remaps_columns() -> None:
    short = ["#separator \\x09", "#fields\tts\tquery\tqtype_name\trcode_name\tanswers\tTTLs"]
    lines = [*HEADER, row("one.example", "A", "NOERROR", "192.0.2.1", "5.0"), *short,
             "1521911720.0\ttwo.example\tA\tNOERROR\t192.0.2.2\t6.0"]  # fmt: skip
    produced, run = parse("zeek", lines)
    assert run.stats.error_count == 0
    assert keys(produced) == [("one.example", "A", ("192.0.2.1",), None), ("two.example", "A", ("192.0.2.2",), None)]


def test_rows_without_a_header_use_the_standard_layout_only() -> None:
    produced, run = parse("zeek", [row("one.example", "A", "NOERROR", "192.0.2.1", "5.0"), "1\t2\t3"])
    assert keys(produced) == [("one.example", "A", ("192.0.2.1",), None)]
    assert run.stats.errors == {"no_header": 1}


def test_multicast_and_netbios_rows_are_skipped_unless_kept() -> None:
    mdns = row("printer.local", "A", "NOERROR", "192.168.0.2", "120.0", port="5353")
    netbios = row("WORKGROUP", "A", "NOERROR", "192.168.0.3", "120.0", port="137")
    assert parse("zeek", [*HEADER, mdns, netbios])[0] == []
    kept, _ = parse("zeek", [*HEADER, mdns, netbios], extra={"multicast": "keep"})
    assert keys(kept) == [("printer.local", "A", ("192.168.0.2",), None)]


def test_json_plain_and_json_streaming_give_the_same_observations() -> None:
    plain = {"ts": 1521911720.865716, "query": "ise.wrccdc.org", "qtype": 1, "qtype_name": "A", "rcode": 0,
             "rcode_name": "NOERROR", "answers": ["ise.wrccdc.cpp.edu", "134.71.3.16"], "TTLs": [2230.0, 41830.0],
             "id.resp_p": 53}  # fmt: skip
    streaming = {
        **plain,
        "_path": "dns",
        "_write_ts": "2018-03-24T17:15:30.000000Z",
        "ts": "2018-03-24T17:15:20.865716Z",
    }
    produced, run = parse("zeek", [json.dumps(plain), json.dumps(streaming)])
    assert run.stats.error_count == 0
    assert produced[:2] == produced[2:]
    assert produced[0]["time_first"] == 1521911720


def test_chaos_class_and_update_opcodes_are_skipped() -> None:
    chaos = {"ts": 1.0, "query": "version.bind", "qclass": 3, "qtype_name": "TXT", "rcode_name": "NOERROR",
             "answers": ["TXT 4 9.18"], "TTLs": [0.0]}  # fmt: skip
    update = {"ts": 1.0, "query": "x.example", "opcode": 5, "rcode_name": "NOERROR", "answers": ["add: A x 192.0.2.1"]}
    assert parse("zeek", [json.dumps(chaos), json.dumps(update)])[0] == []


def test_root_query_is_logged_as_empty() -> None:
    lines = [*HEADER, row("(empty)", "A", "-", "-", "-").replace("\t1\tA\t", "\t2\tNS\t")]
    assert keys(parse("zeek", lines)[0]) == [(".", "NS", (), None)]
