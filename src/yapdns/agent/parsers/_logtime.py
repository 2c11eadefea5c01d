"""Turning a log's own wall-clock stamp into UTC epoch seconds, fast.

Shared by the text-log parsers. ``WallClock`` converts the broken-down local
time of a log line in one timezone: the IANA zone of ``ParserOptions.timezone``
or, when none is set, the host's local zone (the agent usually runs on the
server that writes the log). Conversions are cached per hour, so a parser
pays for one ``datetime`` per hour of log, not per line; every zone's offset
changes on an hour boundary. ``YearGuess`` supplies the year of syslog-style
stamps that have none: ``ParserOptions.year``, else the most recent year in
which the date is not in the future. Invalid fields raise ``ParseError``.
"""

from __future__ import annotations

import datetime as dt
import time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yapdns.agent.parsers.base import ParseError, ParserOptions
from yapdns.core.errors import ConfigurationError

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_FUTURE_SLACK = 2 * 86400  # a stamp up to two days ahead of the host clock is "this year"


@lru_cache(maxsize=4096)
def _utc_day(year: int, month: int, day: int) -> int:
    try:
        return (dt.date(year, month, day).toordinal() - _EPOCH_ORDINAL) * 86400
    except ValueError:
        raise ParseError(f"invalid date {year}-{month}-{day}", code="bad_time") from None


def _check_clock(hour: int, minute: int, second: int) -> None:
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second <= 60):
        raise ParseError(f"invalid time of day {hour}:{minute}:{second}", code="bad_time")


def utc_epoch(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """UTC epoch seconds of a UTC wall-clock time (a leap second 60 counts as 59)."""
    _check_clock(hour, minute, second)
    return _utc_day(year, month, day) + hour * 3600 + minute * 60 + min(second, 59)


def zone_from(options: ParserOptions) -> ZoneInfo | None:
    """The IANA zone of ``options.timezone``; ``None`` means the host's local zone."""
    if not options.timezone:
        return None
    try:
        return ZoneInfo(options.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"unknown timezone {options.timezone!r}: {exc}") from None


class WallClock:
    """Local wall-clock time of one timezone → UTC epoch seconds."""

    def __init__(self, options: ParserOptions) -> None:
        self.zone = zone_from(options)
        self._hours: dict[tuple[int, int, int, int], int] = {}

    def epoch(self, year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
        _check_clock(hour, minute, second)
        key = (year, month, day, hour)
        base = self._hours.get(key)
        if base is None:
            base = self._hour_start(year, month, day, hour)
            if len(self._hours) > 8192:
                self._hours.clear()
            self._hours[key] = base
        return base + minute * 60 + min(second, 59)

    def _hour_start(self, year: int, month: int, day: int, hour: int) -> int:
        _utc_day(year, month, day)  # validates the date
        stamp = dt.datetime(year, month, day, hour)  # naive on purpose: local wall time
        if self.zone is None:
            return int(time.mktime(stamp.timetuple()))
        return int(stamp.replace(tzinfo=self.zone).timestamp())


class YearGuess:
    """The year of a stamp that has none (syslog ``Mon DD HH:MM:SS``)."""

    def __init__(self, options: ParserOptions) -> None:
        self.fixed = options.year

    def year(self, month: int, day: int) -> int:
        if self.fixed is not None:
            return self.fixed
        now = time.time()
        this_year = time.gmtime(now).tm_year
        try:
            stamp = _utc_day(this_year, month, day)
        except ParseError:  # 29 Feb outside a leap year: the last leap year
            return this_year - 1 if month == 2 and day == 29 else this_year
        return this_year if stamp <= now + _FUTURE_SLACK else this_year - 1


def syslog_stamp(text: str, clock: WallClock, years: YearGuess) -> int:
    """``Mon DD HH:MM:SS`` (day may be space padded; a ``.fff`` fraction is ignored) → epoch."""
    try:
        month = MONTHS[text[:3]]
        day = int(text[4:6])
        hour, minute, second = int(text[7:9]), int(text[10:12]), int(text[13:15])
    except (KeyError, ValueError):
        raise ParseError(f"bad syslog timestamp {text[:20]!r}", code="bad_time") from None
    return clock.epoch(years.year(month, day), month, day, hour, minute, second)


def iso_stamp(text: str, clock: WallClock) -> int:
    """``YYYY-MM-DD[T ]HH:MM:SS[.f][Z|±HH[:]MM]`` at the start of ``text`` → epoch.

    ``Z`` or an offset is honoured; without one the stamp is wall time of ``clock``.
    """
    try:
        year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
        hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    except ValueError:
        raise ParseError(f"bad ISO 8601 timestamp {text[:35]!r}", code="bad_time") from None
    if text[4] != "-" or text[7] != "-" or text[10] not in "T ":
        raise ParseError(f"bad ISO 8601 timestamp {text[:35]!r}", code="bad_time")
    i = 19
    if i < len(text) and text[i] in ".,":
        i += 1
        while i < len(text) and text[i].isdigit():
            i += 1
    zone = text[i : i + 6]
    if zone[:1] == "Z":
        return utc_epoch(year, month, day, hour, minute, second)
    if zone[:1] in ("+", "-") and zone[1:3].isdigit():
        digits = zone[1:].replace(":", "")[:4]
        if len(digits) == 4 and digits.isdigit():
            offset = int(digits[:2]) * 3600 + int(digits[2:]) * 60
            sign = 1 if zone[0] == "+" else -1
            return utc_epoch(year, month, day, hour, minute, second) - sign * offset
    return clock.epoch(year, month, day, hour, minute, second)


def iso_length(text: str) -> int:
    """The length of the ISO 8601 stamp that starts ``text`` (0 if none), zone included."""
    if len(text) < 19 or text[4] != "-" or text[7] != "-" or text[10] not in "T " or text[13] != ":":
        return 0
    end = text.find(" ", 11 if text[10] == "T" else 20)
    return len(text) if end < 0 else end


class UntimedPolicy:
    """What to do with a line that carries no timestamp (option ``untimed``).

    ``reject`` (default): a ``ParseError`` with code ``no_timestamp``, so the
    user notices; ``now``: the time the line is read, for live tails of logs
    written without a time (BIND without print-time, CoreDNS on stdout).
    """

    def __init__(self, options: ParserOptions) -> None:
        value = options.extra.get("untimed", "reject")
        if value not in ("reject", "now"):
            raise ConfigurationError(f"option untimed must be 'reject' or 'now', not {value!r}")
        self.use_now = value == "now"

    def time(self) -> int:
        if self.use_now:
            return int(time.time())
        raise ParseError("the line has no timestamp (set option untimed=now to use the read time)", code="no_timestamp")
