"""gamelinux passivedns: layouts, delimiters inside answers, local time, counts, error logs."""

from __future__ import annotations

import pytest

from tests.agent.parsers.helpers import keys
from tests.agent.parsers.helpers import run_lines as parse
from yapdns.agent.parsers.base import ParserOptions
from yapdns.agent.parsers.gamelinux import GamelinuxLayout, GamelinuxParser
from yapdns.core.errors import ConfigurationError

# Real lines of passivedns 1.2.1 (tests/agent/parsers/golden/gamelinux/).
DEFAULT = "1308930716.728074||172.16.238.131||172.16.238.2||IN||www3.l.google.com.||A||74.125.225.74||5||2"
YMD = "2011-06-24 15:51:56.728074|172.16.238.131|172.16.238.2|IN|www3.l.google.com.|A|74.125.225.74|5|2"
TXT = '1331084278.517744||2001:470:1f11:81f::1||2607:f740:b::f93||IN||t.example.||TXT||"a||b"||1||1'


def test_default_layout_keeps_count_ttl_and_last_seen_time() -> None:
    produced, _ = parse("gamelinux", [DEFAULT])
    assert produced == [
        {"rrname": "www3.l.google.com", "rrtype": "A", "rdata": ["74.125.225.74"], "time_first": 1308930716,
         "time_last": 1308930716, "ttl": 5, "count": 2, "source": "gamelinux"}
    ]  # fmt: skip


def test_ymd_hms_is_local_time_of_the_configured_zone() -> None:
    utc, _ = parse("gamelinux", [YMD], timezone="UTC")
    berlin, _ = parse("gamelinux", [YMD], timezone="Europe/Berlin")
    assert utc[0]["time_first"] == 1308930716
    assert berlin[0]["time_first"] == 1308930716 - 2 * 3600  # CEST is UTC+2 in June


def test_a_txt_answer_holding_the_delimiter_is_rejoined() -> None:
    produced, run = parse("gamelinux", [TXT])
    assert run.stats.error_count == 0
    assert keys(produced) == [("t.example", "TXT", ('"a||b"',), None)]


def test_explicit_fields_and_delimiter() -> None:
    line = "1308930716.728074;udp;www3.l.google.com.;A;74.125.225.74"
    produced, _ = parse("gamelinux", [line], extra={"fields": "SMpQTA", "delimiter": ";"})
    assert keys(produced) == [("www3.l.google.com", "A", ("74.125.225.74",), None)]
    assert "ttl" not in produced[0] and "count" not in produced[0]


def test_error_log_lines_are_negative_observations() -> None:
    line = "1056991897.467284||192.168.0.246||192.168.0.104||IN||3.0.168.192.in-addr.arpa.||PTR||NXDOMAIN||0||1"
    produced, _ = parse("gamelinux", [line, line.replace("NXDOMAIN", "NOTIMPL")])
    assert keys(produced) == [
        ("3.0.168.192.in-addr.arpa", "PTR", (), "NXDOMAIN"),
        ("3.0.168.192.in-addr.arpa", "PTR", (), "NOTIMP"),
    ]


def test_json_with_local_timestamp_and_with_epoch() -> None:
    epoch = (
        '{"timestamp_s":1308930716,"timestamp_ms":728074,"query":"a.example.","type":"AAAA","answer":"::1",'
        '"ttl":5,"count":1}'
    )
    local = (
        '{"timestamp":"2011-06-24 15:51:56.728074","query":"a.example.","type":"A","answer":"192.0.2.1",'
        '"ttl":5,"count":3}'
    )
    produced, _ = parse("gamelinux", [epoch, local], timezone="UTC")
    assert [(o["rrtype"], o["time_first"], o.get("count", 1)) for o in produced] == [
        ("AAAA", 1308930716, 1),
        ("A", 1308930716, 3),
    ]


def test_partial_rdata_types_are_refused_with_their_own_reason() -> None:
    lines = [DEFAULT.replace("||A||74.125.225.74", "||MX||aspmx.l.google.com."), DEFAULT + "||extra||x"]
    produced, run = parse("gamelinux", lines)
    assert produced == []
    assert run.stats.errors["incomplete_rdata"] == 1


def test_undetectable_layout_asks_for_the_fields_option() -> None:
    _, run = parse("gamelinux", ["web-01||1308930716||www.example.||A||192.0.2.1"])
    assert run.stats.errors == {"unknown_layout": 1}


def test_bad_field_letters_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        GamelinuxParser(ParserOptions(extra={"fields": "SMcsCQT"}))  # no answer
    with pytest.raises(ConfigurationError):
        GamelinuxLayout("HScsCQTAtn", "||")  # two timestamps


def test_short_line_and_non_numeric_count_are_refused() -> None:
    _, run = parse("gamelinux", [DEFAULT.rsplit("||", 2)[0], DEFAULT[:-1] + "x"])
    assert run.stats.error_count == 2
