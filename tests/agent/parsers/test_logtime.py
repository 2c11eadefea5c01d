"""Log timestamps to UTC: DST edges, offsets, ISO 8601, epochs, year inference (the time code of every parser)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from yapdns.agent.parsers._logtime import IsoClock, WallClock, YearGuess, iso_stamp, parse_epoch, syslog_stamp
from yapdns.agent.parsers.base import ParseError, ParserOptions
from yapdns.core.errors import ConfigurationError

ROME = WallClock("Europe/Rome")


@pytest.mark.parametrize(
    ("wall", "epoch"),
    [
        ((2024, 3, 31, 1, 59, 59), 1711846799),  # 00:59:59 UTC, last second of CET
        ((2024, 3, 31, 3, 0, 0), 1711846800),  # CEST starts: 02:00 local does not exist
        ((2024, 7, 1, 12, 0, 0), 1719828000),  # CEST, UTC+2
        ((2024, 12, 31, 23, 59, 60), 1735685999),  # a leap second counts as :59
    ],
)
def test_wall_clock_follows_dst(wall: tuple[int, int, int, int, int, int], epoch: int) -> None:
    assert ROME.epoch(*wall) == epoch


def test_iso_stamps_with_and_without_offsets() -> None:
    assert iso_stamp("2024-07-01T12:00:00.123Z rest", ROME) == 1719835200
    assert iso_stamp("2024-07-01T12:00:00+02:00", ROME) == 1719828000
    assert iso_stamp("2024-07-01T12:00:00.5-0500", ROME) == 1719853200
    assert iso_stamp("2024-07-01 12:00:00", ROME) == 1719828000  # no zone: wall time of the clock


def test_syslog_stamp_with_padded_day_and_fixed_year() -> None:
    years = YearGuess(ParserOptions(year=2024))
    assert syslog_stamp("Jul  1 12:00:00 host prog[1]: x", ROME, years) == 1719828000


def test_year_inference_never_puts_a_stamp_in_the_future() -> None:
    years = YearGuess(ParserOptions())
    now = time.gmtime()
    assert years.year(now.tm_mon, now.tm_mday) == now.tm_year
    tomorrow_next_month = time.gmtime(time.time() + 40 * 86400)
    expected = now.tm_year - 1 if tomorrow_next_month.tm_year == now.tm_year else now.tm_year
    assert years.year(tomorrow_next_month.tm_mon, tomorrow_next_month.tm_mday) == expected


@pytest.mark.parametrize("text", ["Foo  1 12:00:00", "Jul 32 12:00:00", "Jul  1 25:00:00", "2024-02-30T00:00:00Z"])
def test_impossible_stamps_are_parse_errors(text: str) -> None:
    with pytest.raises(ParseError):
        if text[0].isdigit():
            iso_stamp(text, ROME)
        else:
            syslog_stamp(text, ROME, YearGuess(ParserOptions(year=2024)))


def test_unknown_timezone_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        WallClock("Mars/Olympus_Mons")


def test_local_clock_follows_daylight_saving_time() -> None:
    clock = WallClock("Europe/Berlin")
    winter = clock.ymd_hms("2026-01-15 12:00:00")
    summer = clock.ymd_hms("2026-07-15 12:00:00.999")
    assert winter == int(datetime(2026, 1, 15, 11, tzinfo=UTC).timestamp())
    assert summer == int(datetime(2026, 7, 15, 10, tzinfo=UTC).timestamp())


def test_cached_minutes_still_give_each_second() -> None:
    clock = WallClock("UTC")
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


def test_seconds_are_checked_whether_the_minute_is_cached_or_not() -> None:
    clock = WallClock("UTC")
    assert clock.ymd_hms("2026-01-15 12:00:60") == clock.ymd_hms("2026-01-15 12:00:59")  # a leap second as :59
    for _ in range(2):  # the second call finds the minute cached
        with pytest.raises(ParseError):
            clock.ymd_hms("2026-01-15 12:00:61")
        with pytest.raises(ParseError):
            IsoClock().epoch("2026-01-15T12:00:61Z")


def test_a_zone_whose_offset_changes_off_the_hour() -> None:
    clock = WallClock("Australia/Lord_Howe")  # DST is +30 min from 02:00 local, first Sunday of October
    before = clock.epoch(2024, 10, 6, 1, 59, 0)
    after = clock.epoch(2024, 10, 6, 2, 45, 0)  # 02:00-02:29 do not exist
    assert after - before == 16 * 60
