"""dnsmasq/Pi-hole log-queries: chains, RRset folding, negatives, serials, the yearless padded date."""

from __future__ import annotations

import time

from tests.agent.parsers.helpers import keys
from tests.agent.parsers.helpers import run_lines as parse

P = "Dec  3 21:37:11 dnsmasq[17086]: "  # the space-padded day, as dnsmasq writes it


def test_cname_chain_folded_rrset_and_blocking_lines() -> None:
    # Real dnsmasq 2.90 lines (golden/dnsmasq/), with a Pi-hole-style hosts-file block line.
    lines = [
        P + "query[A] alias.example.net from 127.0.0.1",
        P + "forwarded alias.example.net to 127.0.0.1#45988",
        P + "reply alias.example.net is <CNAME>",
        P + "reply www.example.net is <CNAME>",
        P + "reply web.example.net is 192.0.2.82",
        P + "reply web.example.net is 192.0.2.81",
        P + "query[A] browser.pipe.aria.microsoft.com from 192.168.1.108",
        P + "/etc/pihole/gravity.list browser.pipe.aria.microsoft.com is 0.0.0.0",
        P + "gravity blocked ads.example is 0.0.0.0",
    ]
    produced, run = parse("dnsmasq", lines, timezone="UTC", year=2019)
    assert run.stats.error_count == 0
    assert keys(produced) == [
        ("alias.example.net", "CNAME", ("www.example.net",), None),
        ("www.example.net", "CNAME", ("web.example.net",), None),
        ("web.example.net", "A", ("192.0.2.81", "192.0.2.82"), None),
    ]
    assert produced[0]["time_first"] == 1575409031  # 2019-12-03 21:37:11 UTC


def test_negatives_are_typed_by_their_query() -> None:
    lines = [
        P + "query[A] cdn.example.net from 127.0.0.1",
        P + "reply cdn.example.net is <CNAME>",
        P + "reply edge.example.org is NODATA-IPv4",
        P + "query[MX] nothere.example from 127.0.0.1",
        P + "reply nothere.example is NXDOMAIN",
        P + "config sub.nx.test is NXDOMAIN",
    ]
    assert keys(parse("dnsmasq", lines, timezone="UTC", year=2019)[0]) == [
        ("cdn.example.net", "CNAME", ("edge.example.org",), None),
        ("edge.example.org", "A", (), "NODATA"),
        ("nothere.example", "MX", (), "NXDOMAIN"),
    ]


def test_extra_serials_match_interleaved_queries_and_rcode_lines() -> None:
    x = "Nov 27 12:23:30 dnsmasq[23293]: "
    lines = [
        x + "14 127.0.0.1/35978 query[A] www.example.com from 127.0.0.1",
        x + "15 127.0.0.1/35979 query[AAAA] www.example.com from 127.0.0.1",
        x + "14 127.0.0.1/35978 forwarded www.example.com to 127.0.0.1#45988",
        x + "14 127.0.0.1/35978 reply error is REFUSED",
        x + "15 127.0.0.1/35979 reply www.example.com is NXDOMAIN",
    ]
    assert keys(parse("dnsmasq", lines, timezone="UTC", year=2026)[0]) == [
        ("www.example.com", "A", (), "REFUSED"),
        ("www.example.com", "AAAA", (), "NXDOMAIN"),
    ]


def test_reverse_lines_hosts_files_txt_and_suffixes() -> None:
    lines = [
        P + "/etc/hosts 192.0.2.200 is fileserver.lan",
        P + "reply 2001:db8::1 is host6.example",
        P + "query[TXT] example.net from 127.0.0.1",
        P + "reply example.net is v=spf1 mx -all",
        P + "query[TXT] multi.example.net from 127.0.0.1",
        P + "reply multi.example.net is first string",
        P + "reply multi.example.net is second string",
        P + "reply signed.example is 192.0.2.9 (DNSSEC signed)",
        P + "cached-stale stale.example is 192.0.2.10",
        "Dec  3 21:37:12 dnsmasq-dhcp[17086]: DHCPACK(eth0) 192.0.2.77 aa:bb:cc:dd:ee:ff laptop",
    ]
    assert keys(parse("dnsmasq", lines, timezone="UTC", year=2019)[0]) == [
        ("200.2.0.192.in-addr.arpa", "PTR", ("fileserver.lan",), None),
        ("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR", ("host6.example",), None),
        ("example.net", "TXT", ('"v=spf1 mx -all"',), None),
        ("signed.example", "A", ("192.0.2.9",), None),
        ("stale.example", "A", ("192.0.2.10",), None),
    ]


def test_local_answers_can_be_dropped() -> None:
    lines = [P + "config printer.lan is 192.0.2.50", P + "reply web.example is 192.0.2.80"]
    assert keys(parse("dnsmasq", lines, timezone="UTC", year=2019, extra={"local": "skip"})[0]) == [
        ("web.example", "A", ("192.0.2.80",), None)
    ]


def test_year_rolls_over_from_december_to_january() -> None:
    lines = ["Dec 31 23:59:59 dnsmasq[1]: reply a.example is 192.0.2.1",
             "Jan  1 00:00:01 dnsmasq[1]: reply b.example is 192.0.2.2"]  # fmt: skip
    produced, _ = parse("dnsmasq", lines, timezone="UTC", year=2025)
    assert [o["time_first"] for o in produced] == [1767225599, 1767225601]


def test_inferred_year_never_puts_a_line_in_the_future() -> None:
    now = time.time()
    tomorrow_plus = time.gmtime(now + 3 * 86400)
    if (tomorrow_plus.tm_mon, tomorrow_plus.tm_mday) == (2, 29):  # only leap years have it: not this test's point
        tomorrow_plus = time.gmtime(now + 4 * 86400)
    stamp = time.strftime("%b %e %H:%M:%S", tomorrow_plus)
    produced, _ = parse("dnsmasq", [f"{stamp} dnsmasq[1]: reply a.example is 192.0.2.1"], timezone="UTC")
    assert produced[0]["time_first"] <= now
    assert now - produced[0]["time_first"] < 366 * 86400


def test_lines_without_timestamp_and_other_text() -> None:
    lines = ["dnsmasq[1]: query[A] docs.docker.com from 172.17.0.1", "kernel: something else",
             P + "started, version 2.90 cachesize 150"]  # fmt: skip
    produced, run = parse("dnsmasq", lines, timezone="UTC", year=2019)
    assert produced == []
    assert run.stats.errors == {"no_timestamp": 1, "parse_error": 1}
