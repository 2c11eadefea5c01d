"""A small investigation as sensors would report it: the data every dashboard test ingests.

Times are relative to ``now`` so that "first seen in the last day" has
members. Two sensors: ``edge`` (a resolver: direct answers, negatives) and
``sandbox`` (indirect sightings linked to a sample). Hostile strings are
here on purpose: a TXT with markup, names and CNAME targets with quotes and
markup (as far as DNS presentation form carries them).
"""

from __future__ import annotations

from yapdns.core.model import Evidence, Observation, SampleRef

DAY = 86400
SAMPLE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
XSS_TXT = "<img src=x onerror=\"window.__xss=1;alert(1)\">"
XSS_NAME = "<script>window.__xss=1</script>.xss.example"
XSS_CNAME_TARGET = "\"onmouseover=window.__xss=1//.xss.example"
IDN = "bücher.example"


def _obs(name: str, rrtype: str, rdata: list[str], first: int, last: int, count: int = 1, **extra: object) -> Observation:
    return Observation(
        rrname=name, rrtype=rrtype, rdata=tuple(rdata), time_first=first, time_last=last, count=count, **extra  # type: ignore[arg-type]
    )


def edge_observations(now: int) -> list[Observation]:
    """What the resolver sensor saw."""
    old, mid, recent = now - 400 * DAY, now - 90 * DAY, now - 3 * 3600
    return [
        _obs("example.com", "A", ["192.0.2.10"], old, mid, 5400, ttl=300),
        _obs("example.com", "A", ["192.0.2.11"], mid, now - DAY, 2100, ttl=300),
        _obs("example.com", "A", ["198.51.100.20"], now - 20 * DAY, recent, 880, ttl=60),
        _obs("example.com", "AAAA", ["2001:db8:10::10"], old, recent, 3000, ttl=300),
        _obs("example.com", "NS", ["ns1.example.net", "ns2.example.net"], old, recent, 120, ttl=86400),
        _obs("example.com", "MX", ["10 mail.example.com"], old, recent, 75, ttl=3600),
        _obs("example.com", "TXT", ["\"v=spf1 mx -all\""], old, recent, 40),
        _obs("www.example.com", "CNAME", ["example.com"], old, recent, 9000, ttl=300),
        _obs("mail.example.com", "A", ["192.0.2.25"], old, recent, 300),
        _obs("login.example.com", "A", ["192.0.2.11"], now - 30 * DAY, recent, 60),
        _obs("evil-login.example.org", "A", ["192.0.2.11"], now - 5 * DAY, now - DAY, 12),
        _obs("shop.example.org", "A", ["198.51.100.20"], now - 10 * DAY, recent, 33),
        _obs("neighbour.example.net", "A", ["192.0.2.99"], now - 50 * DAY, now - 2 * DAY, 7),
        _obs("v6-neighbour.example.net", "AAAA", ["2001:db8:10::beef"], now - 50 * DAY, now - 2 * DAY, 9),
        _obs("fresh-domain.example", "A", ["203.0.113.5"], now - 2 * 3600, now - 3600, 4),
        _obs(IDN, "A", ["203.0.113.7"], now - 6 * DAY, recent, 18),
        _obs("cdn.example.com", "CNAME", ["edge.cdn.example.net"], now - 60 * DAY, recent, 400),
        _obs("dga-xkq1.example.com", "A", [], now - 2 * DAY, now - DAY, 3, rcode="NXDOMAIN"),
        _obs("example.com", "CAA", [], now - 5 * DAY, now - DAY, 2, rcode="NOERROR"),
        _obs("txt.xss.example", "TXT", [f"\"{XSS_TXT.replace(chr(34), chr(92) + chr(34))}\""], now - DAY, recent, 2),
        _obs(XSS_NAME, "A", ["203.0.113.66"], now - DAY, recent, 2),
        _obs("quote.xss.example", "CNAME", [XSS_CNAME_TARGET], now - DAY, recent, 2),
    ]


def sandbox_observations(now: int) -> list[Observation]:
    """What the sandbox sensor saw: indirect, linked to one sample."""
    sample = SampleRef(sha256=SAMPLE, task_id="4711")
    first = now - 2 * DAY
    return [
        _obs("beacon.example.net", "A", ["198.51.100.7"], first, first + 600, 3, evidence=Evidence.INDIRECT, sample=sample),
        _obs("example.com", "A", ["198.51.100.20"], first, first + 60, 1, evidence=Evidence.INDIRECT, sample=sample),
        _obs("qzxv-dga.example.net", "A", [], first, first + 5, 2, rcode="NXDOMAIN", evidence=Evidence.INDIRECT,
             sample=sample),
    ]
