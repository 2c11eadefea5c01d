"""Squid ``access.log`` in the native ``squid`` logformat: which address a host name led to.

Reads ``%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt`` split on
runs of whitespace (``%6tr`` is space padded). With ``HIER_DIRECT/<ip>``
Squid resolved the URL's host itself and connected to ``<ip>``: that is an
indirect A (IPv4) or AAAA (IPv6) observation of ``host → ip``, one RR, no
TTL, evidence ``indirect``. CONNECT URLs are ``host:port``.

Lines without DNS evidence are skipped, not errors: ``HIER_NONE/-`` (cache
hits, denials, errors), ``ORIGINAL_DST`` (interception: the client chose the
address), parents and siblings (the address is a proxy's), IP-literal
hosts, and Squid 2's ``DIRECT/<hostname>`` (no address). A line that is not
in the native format (too few fields, no epoch stamp) is a ``ParseError``.

Time: ``%ts.%03tu`` is UTC epoch seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from yapdns.agent.parsers._addr import ip_address, ip_rrtype
from yapdns.agent.parsers.base import LineParser, ParseError
from yapdns.core.digits import ascii_digits
from yapdns.core.model import Evidence, Observation

_MIN_FIELDS = 10
_DIRECT = ("HIER_DIRECT", "DIRECT")


class SquidParser(LineParser):
    name = "squid"
    evidence = Evidence.INDIRECT
    timezone = "UTC (epoch seconds)"
    description = "Squid access.log, native squid logformat (HIER_DIRECT host -> server address)"

    def parse_line(self, line: str) -> Iterator[Observation]:
        fields = line.split()
        if len(fields) < _MIN_FIELDS:
            if not fields:
                return
            raise ParseError(f"{len(fields)} fields, the squid logformat has {_MIN_FIELDS}", code="bad_format")
        when = _epoch(fields[0])
        hierarchy, _, peer = fields[8].partition("/")
        if hierarchy not in _DIRECT:
            return
        address = ip_address(peer)
        if address is None:
            return  # "-" or a Squid 2 peer host name: no address
        host = _host(fields[6], fields[5] == "CONNECT")
        if not host or ip_rrtype(host) is not None:
            return  # no host, or an IP-literal host
        yield Observation(
            rrname=host,
            rrtype=address[0],
            rdata=(address[1],),
            time_first=when,
            time_last=when,
            source=self.name,
            evidence=self.evidence,
        )


def _epoch(text: str) -> int:
    seconds, _, millis = text.partition(".")
    if not ascii_digits(seconds) or not (millis == "" or ascii_digits(millis)):
        raise ParseError(f"not an epoch timestamp: {text[:30]!r}", code="bad_time")
    return int(seconds)


@lru_cache(maxsize=65536)
def _host(url: str, connect: bool) -> str | None:
    """The host of an absolute URL or of a CONNECT ``host:port``; ``None`` if there is none."""
    if not connect:
        scheme_end = url.find("://")
        if scheme_end < 0:
            return None  # "error:...", "-" or an origin-form path
        authority = url[scheme_end + 3 :]
        for stop in "/?#":
            cut = authority.find(stop)
            if cut >= 0:
                authority = authority[:cut]
        url = authority.rpartition("@")[2]
    if url.startswith("["):
        return url[1 : url.find("]")] if "]" in url else None
    host = url.rpartition(":")[0] if ":" in url else url
    return host.rstrip(".") or None


PARSER = SquidParser
