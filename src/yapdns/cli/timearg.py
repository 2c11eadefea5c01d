"""Reading times typed on the command line: epoch, negative-relative, ISO date, or 7d/12h."""

from __future__ import annotations

import datetime as dt
import re

import click

_SPAN = re.compile(r"(\d+)([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str) -> int:
    """Epoch seconds; ``-3600`` (DNSDB relative) and ``7d`` (ago) stay relative (negative)."""
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    span = _SPAN.fullmatch(text)
    if span:
        return -int(span.group(1)) * _UNIT[span.group(2)]
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a time: use epoch seconds, -SECONDS, 7d / 12h, or an ISO date like 2024-05-01"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return int(stamp.timestamp())


class TimeParam(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    name = "TIME"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        return value if isinstance(value, int) else parse_time(str(value))
