"""Any line-oriented log, read with a regular expression: name-to-address pairings.

The pattern (``extra.pattern``, Python ``re`` syntax, matched against the
whole line) names its groups: ``rrname`` and ``rdata`` are required;
``rrtype``, ``ttl`` and ``time`` are optional. Without ``rrtype`` the type is
inferred from the rdata's address family (A for IPv4, AAAA for IPv6), and
rdata that is not an address is an error. Lines the pattern does not match
are errors; a matched line whose ``rrname`` is itself an IP address, or whose
``rdata`` is ``-``/empty, carries no pairing and yields nothing.

Options (``ParserOptions.extra``):

* ``pattern``, or ``preset``: a ready-made pattern by name (see
  ``_regex_presets``; ``nginx-upstream``, ``apache-balancer``);
* ``time_format``: ``epoch`` (seconds, fractions allowed), ``iso8601``, or a
  ``strptime`` format (default ``epoch``); without a ``time`` group the line
  cannot be dated and is refused;
* ``evidence``: ``direct``, ``indirect`` (default) or ``imported``;
* ``source``: the source label of the observations (default ``regex``).

Times without a UTC offset are in ``ParserOptions.timezone`` (default the
agent host's zone); ``%z`` in a strptime format and ISO 8601 offsets win.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache

from yapdns.agent.parsers._addr import ip_rrtype
from yapdns.agent.parsers._logtime import IsoClock, parse_epoch, zone_for
from yapdns.agent.parsers._regex_presets import PRESETS
from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.core.errors import ConfigurationError
from yapdns.core.model import Evidence, Observation

_REQUIRED = frozenset({"rrname", "rdata"})
_EMPTY = frozenset({"", "-"})


def _compile(extra: dict[str, str]) -> tuple[re.Pattern[str], str]:
    preset_name = extra.get("preset")
    if preset_name is not None:
        preset = PRESETS.get(preset_name)
        if preset is None:
            raise ConfigurationError(f"regex: unknown preset {preset_name!r}; known: {', '.join(sorted(PRESETS))}")
        pattern, time_format = preset.pattern, extra.get("time_format", preset.time_format)
    elif "pattern" in extra:
        pattern, time_format = extra["pattern"], extra.get("time_format", "epoch")
    else:
        raise ConfigurationError("regex: set options.extra.pattern or options.extra.preset")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ConfigurationError(f"regex: bad pattern: {exc}") from None
    missing = _REQUIRED - set(compiled.groupindex)
    if missing:
        raise ConfigurationError(f"regex: the pattern needs the named groups {sorted(missing)}")
    return compiled, time_format


class RegexParser(LineParser):
    name = "regex"
    evidence = Evidence.INDIRECT
    timezone = "the time group: epoch (UTC), ISO 8601 or strptime; options.timezone when no offset"
    description = "any log read with a regular expression (presets: nginx-upstream, apache-balancer)"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        extra = self.options.extra
        self._pattern, self._time_format = _compile(extra)
        try:
            self._evidence = Evidence(extra.get("evidence", "indirect"))
        except ValueError:
            raise ConfigurationError("regex: evidence must be direct, indirect or imported") from None
        self._source = extra.get("source", "regex")
        self._has_time = "time" in self._pattern.groupindex
        self._zone = zone_for(self.options.timezone)
        self._iso = IsoClock(self.options.timezone)
        self._strptime = lru_cache(maxsize=4096)(self._parse_strptime)

    def parse_line(self, line: str) -> Iterator[Observation]:
        match = self._pattern.fullmatch(line)
        if match is None:
            if not line.strip():
                return
            raise ParseError("the line does not match the pattern", code="no_match")
        fields = match.groupdict()
        rrname, rdata = fields["rrname"], fields["rdata"]
        if rrname in _EMPTY or rdata in _EMPTY or rdata is None or ip_rrtype(rrname):
            return
        rrtype = fields.get("rrtype") or ip_rrtype(rdata)
        if rrtype is None:
            raise ParseError(f"no rrtype group and {rdata[:60]!r} is not an IP address", code="bad_rdata")
        when = self._time(fields.get("time"))
        ttl = fields.get("ttl")
        try:
            ttl_value = int(ttl) if ttl not in (None, "", "-") else None
        except ValueError:
            raise ParseError(f"TTL {ttl!r} is not an integer", code="bad_value") from None
        yield Observation(rrname=rrname, rrtype=rrtype, rdata=(rdata,), time_first=when, time_last=when, ttl=ttl_value,
                          source=self._source, evidence=self._evidence)  # fmt: skip

    def _time(self, text: str | None) -> int:
        if not self._has_time or text is None:
            raise ParseError("the pattern has no time group, or it did not match", code="no_timestamp")
        if self._time_format == "epoch":
            return parse_epoch(text)
        if self._time_format == "iso8601":
            return self._iso.epoch(text)
        return self._strptime(text)

    def _parse_strptime(self, text: str) -> int:
        try:
            moment = datetime.strptime(text, self._time_format)
        except ValueError as exc:
            raise ParseError(f"time {text[:40]!r}: {exc}", code="bad_time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone) if self._zone is not None else moment.astimezone()
        return int(moment.timestamp())


PARSER = RegexParser
