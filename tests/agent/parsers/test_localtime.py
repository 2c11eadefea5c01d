"""Local wall-clock and ISO 8601 conversions, including DST and offsets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from yapdns.agent.parsers._localtime import IsoClock, LocalClock, parse_epoch
from yapdns.agent.parsers.base import ParseError
from yapdns.core.errors import ConfigurationError


def test_local_clock_follows_daylight_saving_time() -> None:
    clock = LocalClock("Europe/Berlin")
    winter = clock.ymd_hms("2026-01-15 12:00:00")
    summer = clock.ymd_hms("2026-07-15 12:00:00.999")
    assert winter == int(datetime(2026, 1, 15, 11, tzinfo=UTC).timestamp())
    assert summer == int(datetime(2026, 7, 15, 10, tzinfo=UTC).timestamp())


def test_cached_minutes_still_give_each_second() -> None:
    clock = LocalClock("UTC")
    assert clock.ymd_hms("2026-01-15 12:00:59") - clock.ymd_hms("2026-01-15 12:00:01") == 58


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-03-24T17:15:20.865716Z", 1521911720),
        ("2019-08-22T23:48:27.924120+0000", 1566517707),
        ("2019-08-22T23:48:27.924120-0600", 1566517707 + 6 * 3600),
        ("2026-11-27T12:25:50+01:00", 1795778750),
        ("2026-11-27 11:25:50", 1795778750),
    ],
)
def test_iso8601_offsets(text: str, expected: int) -> None:
    assert IsoClock().epoch(text) == expected


@pytest.mark.parametrize("text", ["2026-13-01T00:00:00Z", "2026-11-27T12:25:50+1", "yesterday", "2026-11-27T12:25"])
def test_bad_iso8601_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        IsoClock().epoch(text)


def test_epoch_text() -> None:
    assert parse_epoch("1494364058.429337") == 1494364058
    for bad in ("-1", "1e9", "", "١٢٣"):
        with pytest.raises(ParseError):
            parse_epoch(bad)


def test_unknown_zone_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        LocalClock("Mars/Olympus_Mons")
