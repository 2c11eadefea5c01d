"""Wall-clock times of a sensor's local zone turned into UTC epoch seconds.

Several formats (gamelinux ``-f H``, dnsmasq, nginx/apache ``[dd/Mon/yyyy...]``
without an offset) log the sensor's local time with no zone. ``LocalClock``
converts such times with the IANA zone of ``ParserOptions.timezone``, or the
agent host's own zone when none is configured. Conversions are cached per
minute, so a log's run of lines in one minute costs one dictionary lookup.
A time that does not exist (a DST gap) resolves as Python's ``fold=0`` does.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yapdns.agent.parsers.base import ParseError
from yapdns.core.errors import ConfigurationError

MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
_CACHE_LIMIT = 8192


def zone_for(name: str | None) -> tzinfo | None:
    """The zone of an IANA name (``None``: the host's local zone); raise ``ConfigurationError``."""
    if name is None or name == "":
        return None
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"unknown timezone {name!r}: {exc}") from None


class LocalClock:
    """Converts local wall-clock times of one zone to epoch seconds, cached per minute."""

    def __init__(self, zone_name: str | None) -> None:
        self.zone = zone_for(zone_name)
        self._minutes: dict[tuple[int, int, int, int, int], int] = {}
        self._prefixes: dict[str, int] = {}  # "YYYY-MM-DD HH:MM" -> epoch of that minute

    def epoch(self, ymd: tuple[int, int, int], hms: tuple[int, int, int]) -> int:
        """Epoch seconds of a local date and time; raise ``ParseError`` if it is not valid."""
        hour, minute, second = hms
        key = (*ymd, hour, minute)
        base = self._minutes.get(key)
        if base is None:
            base = self._minute_epoch(key)
        if not 0 <= second <= 60:
            raise ParseError(f"invalid second {second}", code="bad_time")
        return base + second

    def _minute_epoch(self, key: tuple[int, int, int, int, int]) -> int:
        try:
            moment = datetime(*key, tzinfo=self.zone)
        except ValueError as exc:
            raise ParseError(f"invalid date {key}: {exc}", code="bad_time") from None
        if self.zone is None:
            moment = moment.astimezone()  # the host's zone, DST-aware
        value = int(moment.timestamp())
        if len(self._minutes) >= _CACHE_LIMIT:
            self._minutes.clear()
        self._minutes[key] = value
        return value

    def ymd_hms(self, text: str) -> int:
        """``YYYY-MM-DD HH:MM:SS[.frac]`` (also with ``T``) in local time."""
        base = self._prefixes.get(text[:16])
        second = text[17:19]
        if base is not None and text[16:17] == ":" and second.isdigit() and second.isascii():
            return base + int(second)
        value = self._ymd_hms(text)
        if len(self._prefixes) >= _CACHE_LIMIT:
            self._prefixes.clear()
        self._prefixes[text[:16]] = value - int(second)
        return value

    def _ymd_hms(self, text: str) -> int:
        try:
            if text[4] != "-" or text[7] != "-" or text[13] != ":" or text[16] != ":":
                raise ValueError
            return self.epoch(
                (int(text[0:4]), int(text[5:7]), int(text[8:10])),
                (int(text[11:13]), int(text[14:16]), int(text[17:19])),
            )
        except (ValueError, IndexError):
            raise ParseError(f"not a YYYY-MM-DD HH:MM:SS time: {text[:40]!r}", code="bad_time") from None


def parse_epoch(text: str) -> int:
    """``1494364058.429337`` or ``1494364058`` as whole epoch seconds; raise ``ParseError``."""
    head, _, frac = text.partition(".")
    if head.isdigit() and head.isascii() and (not frac or frac.isdigit()):
        return int(head)
    raise ParseError(f"not an epoch time: {text[:40]!r}", code="bad_time")


_ISO_OFFSETS: dict[str, int] = {"Z": 0, "z": 0}


def _offset_seconds(suffix: str) -> int:
    known = _ISO_OFFSETS.get(suffix)
    if known is not None:
        return known
    sign, digits = suffix[0], suffix[1:].replace(":", "")
    if sign not in "+-" or len(digits) != 4 or not digits.isdigit() or not digits.isascii():
        raise ValueError(suffix)
    value = (int(digits[:2]) * 60 + int(digits[2:])) * 60
    value = -value if sign == "+" else value  # local = UTC + offset, so UTC = local - offset
    _ISO_OFFSETS[suffix] = value
    return value


class IsoClock:
    """ISO 8601 times with a zone (``...Z``, ``+0000``, ``+01:00``) to UTC epoch, cached per minute.

    A time without a zone designator is taken in ``naive_zone`` (default UTC;
    ``None``: the host's zone).
    """

    def __init__(self, naive_zone: str | None = "UTC") -> None:
        self._utc = LocalClock("UTC")
        self._naive = self._utc if naive_zone == "UTC" else LocalClock(naive_zone)
        self._minutes: dict[tuple[str, str], int] = {}  # (YYYY-MM-DDTHH:MM, zone suffix) -> epoch

    def epoch(self, text: str) -> int:
        rest = text[19:]
        if rest[:1] in (".", ","):
            rest = rest[1:].lstrip("0123456789")
        key = (text[:16], rest)
        base = self._minutes.get(key)
        second = text[17:19]
        if base is not None and text[16:17] == ":" and second.isdigit() and second.isascii():
            return base + int(second)
        value = self._epoch(text, rest)
        if len(self._minutes) >= _CACHE_LIMIT:
            self._minutes.clear()
        self._minutes[key] = value - int(second)
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
