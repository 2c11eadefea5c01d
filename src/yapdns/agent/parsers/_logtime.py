"""Turning a log's own timestamp into UTC epoch seconds, fast: the time code of every parser.

``WallClock`` converts the broken-down local time of a log line in one
timezone: the IANA zone of ``ParserOptions.timezone`` or, when none is set,
the host's local zone (the agent usually runs on the server that writes the
log). Conversions are cached per minute, so a run of lines in one minute costs
one dictionary lookup, and a zone whose offset changes off the hour (Lord
Howe) is still right. A time that does not exist (a DST gap) resolves as
Python's ``fold=0`` does; a leap second ``:60`` counts as ``:59``.
``IsoClock`` reads whole ISO 8601 fields (``...Z``, ``+0100``, ``+01:00``,
or no zone), cached per minute and zone; ``iso_stamp`` reads a stamp at the
start of a line. ``parse_epoch`` reads epoch seconds. ``YearGuess`` supplies
the year of syslog-style stamps that have none: ``ParserOptions.year``, else
the most recent year in which the date is not in the future. Invalid fields
raise ``ParseError``; an unknown zone raises ``ConfigurationError``.
"""

from __future__ import annotations

import datetime as dt
import time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yapdns.agent.parsers.base import ParseError, ParserOptions
from yapdns.core.digits import ascii_digits
from yapdns.core.errors import ConfigurationError

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_FUTURE_SLACK = 2 * 86400  # a stamp up to two days ahead of the host clock is "this year"
_CACHE_LIMIT = 8192
_SECONDS = {f"{s:02d}": min(s, 59) for s in range(61)}  # the seconds field of a stamp; a leap second counts as :59


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


def zone_for(name: str | None) -> dt.tzinfo | None:
    """The zone of an IANA name (``None`` or empty: the host's local zone); raise ``ConfigurationError``."""
    if not name:
        return None
    if name.upper() == "UTC":
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"unknown timezone {name!r}: {exc}") from None


class WallClock:
    """Local wall-clock time of one timezone (``None``: the host's) → UTC epoch seconds, cached per minute."""

    def __init__(self, zone_name: str | None) -> None:
        self.zone = zone_for(zone_name)
        self._minutes: dict[tuple[int, int, int, int, int], int] = {}
        self._prefixes: dict[str, int] = {}  # "YYYY-MM-DD HH:MM" -> epoch of that minute

    def epoch(self, year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
        key = (year, month, day, hour, minute)
        base = self._minutes.get(key)
        if base is None:
            base = self._minute_start(key)
        if 0 <= second < 60:
            return base + second
        if second == 60:
            return base + 59
        raise ParseError(f"invalid second {second}", code="bad_time")

    def _minute_start(self, key: tuple[int, int, int, int, int]) -> int:
        try:
            moment = dt.datetime(*key, tzinfo=self.zone)  # naive when zone is None: the host's wall time
        except ValueError as exc:
            raise ParseError(f"invalid date or time {key}: {exc}", code="bad_time") from None
        value = int(moment.timestamp())
        if len(self._minutes) >= _CACHE_LIMIT:
            self._minutes.clear()
        self._minutes[key] = value
        return value

    def ymd_hms(self, text: str) -> int:
        """``YYYY-MM-DD HH:MM:SS[.frac]`` (also with ``T``) in this clock's zone."""
        base = self._prefixes.get(text[:16])
        if base is not None and text[16:17] == ":":
            second = _SECONDS.get(text[17:19])
            if second is not None:
                return base + second
        value = self._ymd_hms(text)
        if len(self._prefixes) >= _CACHE_LIMIT:
            self._prefixes.clear()
        self._prefixes[text[:16]] = value - min(int(text[17:19]), 59)
        return value

    def _ymd_hms(self, text: str) -> int:
        try:
            if text[4] != "-" or text[7] != "-" or text[13] != ":" or text[16] != ":" or not text[:19].isascii():
                raise ValueError
            return self.epoch(
                int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]), int(text[17:19])
            )
        except (ValueError, IndexError):
            raise ParseError(f"not a YYYY-MM-DD HH:MM:SS time: {text[:40]!r}", code="bad_time") from None


def parse_epoch(text: str) -> int:
    """``1494364058.429337`` or ``1494364058`` as whole epoch seconds; raise ``ParseError``."""
    head, _, frac = text.partition(".")
    if text.isascii() and head.isdigit() and (not frac or frac.isdigit()):  # ascii_digits of both, at less cost
        return int(head)
    raise ParseError(f"not an epoch time: {text[:40]!r}", code="bad_time")


_ISO_OFFSETS: dict[str, int] = {"Z": 0, "z": 0}


def _offset_seconds(suffix: str) -> int:
    known = _ISO_OFFSETS.get(suffix)
    if known is not None:
        return known
    sign, digits = suffix[0], suffix[1:].replace(":", "")
    if sign not in "+-" or len(digits) != 4 or not ascii_digits(digits):
        raise ValueError(suffix)
    value = (int(digits[:2]) * 60 + int(digits[2:])) * 60
    value = -value if sign == "+" else value  # local = UTC + offset, so UTC = local - offset
    _ISO_OFFSETS[suffix] = value
    return value


class IsoClock:
    """A whole ISO 8601 field with a zone (``...Z``, ``+0000``, ``+01:00``) to UTC epoch, cached per minute.

    A time without a zone designator is taken in ``naive_zone`` (default UTC;
    ``None``: the host's zone).
    """

    def __init__(self, naive_zone: str | None = "UTC") -> None:
        self._utc = WallClock("UTC")
        self._naive = self._utc if naive_zone == "UTC" else WallClock(naive_zone)
        self._minutes: dict[tuple[str, str], int] = {}  # (YYYY-MM-DDTHH:MM, zone suffix) -> epoch

    def epoch(self, text: str) -> int:
        rest = text[19:]
        if rest[:1] in (".", ","):
            rest = rest[1:].lstrip("0123456789")
        key = (text[:16], rest)
        base = self._minutes.get(key)
        if base is not None and text[16:17] == ":":
            second = _SECONDS.get(text[17:19])
            if second is not None:
                return base + second
        value = self._epoch(text, rest)
        if len(self._minutes) >= _CACHE_LIMIT:
            self._minutes.clear()
        self._minutes[key] = value - min(int(text[17:19]), 59)
        return value

    def _epoch(self, text: str, zone: str) -> int:
        try:
            if len(text) < 19 or text[10] not in "T ":
                raise ValueError(text)
            if not zone:
                return self._naive.ymd_hms(text[:19])
            return self._utc.ymd_hms(text[:19]) + _offset_seconds(zone)
        except (ValueError, IndexError):
            raise ParseError(f"not an ISO 8601 time: {text[:40]!r}", code="bad_time") from None


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
        if not text[:15].isascii():
            raise ValueError
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
        if not text[:19].isascii():
            raise ValueError
        year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
        hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    except ValueError:
        raise ParseError(f"bad ISO 8601 timestamp {text[:35]!r}", code="bad_time") from None
    if text[4] != "-" or text[7] != "-" or text[10] not in "T ":
        raise ParseError(f"bad ISO 8601 timestamp {text[:35]!r}", code="bad_time")
    i = 19
    if i < len(text) and text[i] in ".,":
        i += 1
        while i < len(text) and ascii_digits(text[i]):
            i += 1
    zone = text[i : i + 6]
    if zone[:1] == "Z":
        return utc_epoch(year, month, day, hour, minute, second)
    if zone[:1] in ("+", "-") and ascii_digits(zone[1:3]):
        digits = zone[1:].replace(":", "")[:4]
        if len(digits) == 4 and ascii_digits(digits):
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
