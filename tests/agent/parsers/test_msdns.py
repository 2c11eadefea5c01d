"""Microsoft DNS debug log: locale dates, query/response pairing, bad lines.

These tests edit the committed real line (u-siem, MIT) along shapes seen in
real logs; the golden tests read real logs of Windows Server 2008 R2, 2012
and 2012 R2 (golden/msdns/PROVENANCE.txt). No redistributable real log with
"Details" records is known, so the Details path has no real-data test here.
"""

from __future__ import annotations

import pytest

from tests.agent.parsers.helpers import GOLDEN, run_lines
from yapdns.agent.parsers.base import ParserOptions
from yapdns.agent.parsers.msdns import MsdnsParser
from yapdns.core.errors import ConfigurationError

QUERY = (GOLDEN / "msdns" / "usiem-windns_parsers_test_line.log").read_text(encoding="utf-8").strip()
RESPONSE = QUERY.replace("10:00:32 AM", "10:00:33 AM").replace("UDP Rcv", "UDP Snd").replace(
    "5b47   Q [0001   D   NOERROR]", "5b47 R Q [8183   DR NXDOMAIN]"
)
UTC = {"timezone": "UTC"}


def _summary(out: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(o["rrname"], o["rrtype"], o.get("rdata"), o.get("rcode"), o.get("ttl")) for o in out]


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
