"""Wall-clock stamps to UTC: DST edges, offsets, year inference (the shared time code of the text parsers)."""

from __future__ import annotations

import time

import pytest

from yapdns.agent.parsers._logtime import WallClock, YearGuess, iso_stamp, syslog_stamp
from yapdns.agent.parsers.base import ParseError, ParserOptions
from yapdns.core.errors import ConfigurationError

ROME = WallClock(ParserOptions(timezone="Europe/Rome"))


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
        WallClock(ParserOptions(timezone="Mars/Olympus_Mons"))
