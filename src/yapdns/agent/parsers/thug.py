"""Thug honeyclient JSON log (``analysis/json/analysis.json``; the Elasticsearch module indexes the same object).

Thug records the URLs it visits (``url``), the redirections and links between
them (``connections[].source/destination``) and what it fetched
(``locations[].url`` with status and content hashes). It records **no resolved
address and no DNS answer**: the host names it asked for are all it gives. So
each distinct host name of a log becomes one name-only observation (``rdata``
empty, rrtype ``TYPE0``: type not recorded), ``indirect`` evidence; IP-literal
hosts and non-HTTP(S) URLs (``about:``, ``data:``) are skipped. When Thug runs
behind a proxy (``-p``), the proxy resolved the names, not Thug.

Time: ``timestamp`` is ``str(datetime.now())`` when the analysis started, the
honeyclient host's local wall clock, read in the ``timezone`` option's zone
(default: this host's zone).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from yapdns.agent.parsers._addr import ip_rrtype
from yapdns.agent.parsers._logtime import zone_for
from yapdns.agent.parsers._sandbox import UNKNOWN_TYPE, json_document, wall_clock_epoch
from yapdns.agent.parsers.base import DocumentParser, ParseError
from yapdns.core.model import Evidence, Observation


class ThugParser(DocumentParser):
    name = "thug"
    evidence = Evidence.INDIRECT
    timezone = "analysis start, honeyclient host's local zone (timezone option; default: this host's zone)"
    description = "Thug honeyclient JSON log: host names visited (Thug records no addresses)"

    def parse_document(self, data: bytes) -> Iterator[Observation]:
        log = json_document(data, "Thug JSON log")
        if log.get("logtype") != "json-log":
            raise ParseError("not a Thug JSON log (logtype is not json-log)", code="wrong_format")
        when = self._time(log.get("timestamp"))
        for host in sorted(visited_hosts(log)):
            yield Observation(
                rrname=host,
                rrtype=UNKNOWN_TYPE,
                time_first=when,
                time_last=when,
                source=self.name,
                evidence=self.evidence,
            )

    def _time(self, value: object) -> int:
        if not isinstance(value, str):
            raise ParseError("the log has no timestamp", code="no_time")
        try:
            return wall_clock_epoch(datetime.fromisoformat(value), zone_for(self.options.timezone))
        except ValueError:
            raise ParseError(f"bad timestamp {value[:40]!r}", code="bad_time") from None


def visited_hosts(log: dict[str, Any]) -> set[str]:
    """The host names of every URL the log mentions (IP literals and non-HTTP URLs left out)."""
    urls: list[object] = [log.get("url")]
    for conn in _objects(log.get("connections")):
        urls += [conn.get("source"), conn.get("destination")]
    urls += [loc.get("url") for loc in _objects(log.get("locations"))]
    return {host for host in (_host(u) for u in urls) if host}


def _objects(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _host(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return host if ip_rrtype(host) is None else None


PARSER = ThugParser
