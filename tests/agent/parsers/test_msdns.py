"""Microsoft DNS debug log: Details records, locale dates, query/response pairing.

The real Details records (SANS ISC diary, CC BY-NC-SA; a lab blog and a
2015 test file of unknown licence) may not be committed: the tests that read
them take them from the team's shared samples and skip where those are
absent. Their expectations were written by reading the records by hand.
The other tests edit the one committed real line (u-siem, MIT) along the
shapes the shared samples show.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.parsers.helpers import GOLDEN, run_lines, shared_samples
from yapdns.agent.parsers.base import ParserOptions
from yapdns.agent.parsers.msdns import MsdnsParser
from yapdns.core.errors import ConfigurationError

QUERY = (GOLDEN / "msdns" / "usiem-windns_parsers_test_line.log").read_text(encoding="utf-8").strip()
RESPONSE = QUERY.replace("10:00:32 AM", "10:00:33 AM").replace("UDP Rcv", "UDP Snd").replace(
    "5b47   Q [0001   D   NOERROR]", "5b47 R Q [8183   DR NXDOMAIN]"
)
UTC = {"timezone": "UTC"}


def _sample(name: str) -> Path:
    folder = shared_samples()
    if folder is None or not (folder / "msdns_debug" / name).exists():
        pytest.skip("shared samples not available (not redistributable, never committed)")
    return folder / "msdns_debug" / name


def _summary(out: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(o["rrname"], o["rrtype"], o.get("rdata"), o.get("rcode"), o.get("ttl")) for o in out]


def test_details_answer_and_authority_rrsets_with_ttl() -> None:
    lines = _sample("isc_sans_29618_dc5dns_details.log").read_text(encoding="utf-8").splitlines()
    out, run = run_lines("msdns", lines, **UTC)
    elb = "prod-pod4-dvc-signaling-podlb-218071557.us-east-1.elb.amazonaws.com"
    assert run.stats.error_count == 0
    assert _summary(out) == [
        (elb, "A", ["3.217.159.189", "34.204.229.165", "34.234.159.190", "54.175.201.22"], None, 60),
        ("us-east-1.elb.amazonaws.com", "NS",
         ["ns-1119.awsdns-11.org", "ns-1793.awsdns-32.co.uk", "ns-235.awsdns-29.com", "ns-934.awsdns-52.net"],
         None, 1800),
    ]
    assert out[0]["time_first"] == 1677172394  # 2/23/2023 5:13:14 PM, US locale, read as UTC here


def test_details_nodata_with_soa_ipv6_remote_and_european_date() -> None:
    lines = _sample("cancamusa_blog_details_es_locale.log").read_text(encoding="utf-8").splitlines()
    out, run = run_lines("msdns", lines, timezone="Europe/Madrid")
    assert run.stats.error_count == 0
    assert _summary(out) == [
        ("wrk10w1.cancamusa.com", "AAAA", None, "NODATA", None),
        ("cancamusa.com", "SOA", ["srvdc1.cancamusa.com hostmaster.cancamusa.com 40 900 600 86400 3600"], None, 3600),
        ("wrk7w1.cancamusa.com", "A", None, "NXDOMAIN", None),
    ]
    assert out[0]["time_first"] == 1640190779  # 22/12/2021 17:32:59 CET


def test_orphan_details_of_a_wrapped_file_are_skipped() -> None:
    lines = _sample("isc_sans_29618_fragment2_cname_no_header.log").read_text(encoding="utf-8").splitlines()
    out, run = run_lines("msdns", lines, **UTC)
    assert out == [] and run.stats.error_count == 0


def test_a_response_stands_for_its_query() -> None:
    out, _ = run_lines("msdns", [QUERY, RESPONSE], **UTC)
    assert _summary(out) == [("somecomputer.domain.com", "A", None, "NXDOMAIN", None)]
    assert out[0]["time_first"] == 1370426433


def test_an_unanswered_query_is_a_bare_query() -> None:
    out, _ = run_lines("msdns", [QUERY, RESPONSE.replace("5b47 R", "5b48 R")], **UTC)
    assert sorted(_summary(out), key=str) == [
        ("somecomputer.domain.com", "A", None, "NXDOMAIN", None),
        ("somecomputer.domain.com", "A", None, None, None),
    ]


def test_a_bad_packet_line_does_not_lose_the_record_it_ends() -> None:
    out, run = run_lines("msdns", [RESPONSE, "6/5/2013 10:00:34 AM 0E70 PACKET  garbage"], **UTC)
    assert _summary(out) == [("somecomputer.domain.com", "A", None, "NXDOMAIN", None)]
    assert dict(run.stats.errors) == {"bad_format": 1}


@pytest.mark.parametrize(
    ("date", "clock", "order", "epoch"),
    [
        ("05/03/2019", "16:05:31", "dmy", 1551801931),  # 5 March
        ("05/03/2019", "16:05:31", "mdy", 1556899531),  # 3 May
        ("05/03/2019", "16:05:31", "auto", 1551801931),  # 24-hour clock: D/M/Y until a date settles it
        ("05/03/2019", "4:05:31 PM", "auto", 1556899531),  # AM/PM: M/D/Y
        ("2019/3/5", "16:05:31", "auto", 1551801931),  # year first
        ("05.03.2019", "16:05:31", "auto", 1551801931),
        ("12/03/2019", "12:05:31 AM", "mdy", 1575331531),  # 3 December, 12 AM is midnight
    ],
)
def test_locale_dates(date: str, clock: str, order: str, epoch: int) -> None:
    line = QUERY.replace("6/5/2013 10:00:32 AM", f"{date} {clock}")
    out, _ = run_lines("msdns", [line], timezone="UTC", extra={"date_order": order})
    assert out[0]["time_first"] == epoch


def test_auto_date_order_learns_from_an_unambiguous_date() -> None:
    first = QUERY.replace("6/5/2013 10:00:32 AM", "25/03/2019 16:05:31")
    second = QUERY.replace("6/5/2013 10:00:32 AM", "05/04/2019 16:05:31").replace("5b47", "5b49")
    out, _ = run_lines("msdns", [first, second], **UTC)
    assert sorted(o["time_first"] for o in out) == [1553529931, 1554480331]  # 25 March, then 5 April


def test_impossible_dates_are_errors() -> None:
    line = QUERY.replace("6/5/2013", "13/13/2013")
    out, run = run_lines("msdns", [line], **UTC)
    assert out == [] and dict(run.stats.errors) == {"bad_time": 1}


def test_unknown_date_order_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        MsdnsParser(ParserOptions(extra={"date_order": "ydm"}))
