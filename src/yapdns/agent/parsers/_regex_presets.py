"""Ready-made patterns for the ``regex`` format, selectable by name (``extra.preset``).

Each preset is the pattern plus the time format of one documented log
configuration; ``docs/parsers.md`` gives the exact ``log_format``/``LogFormat``
line to put in the server's configuration.
"""

from __future__ import annotations

from typing import NamedTuple


class RegexPreset(NamedTuple):
    pattern: str
    time_format: str
    description: str


_IP = r"[0-9A-Fa-f.:]+"

PRESETS: dict[str, RegexPreset] = {
    # log_format yapdns '$time_iso8601 host=$host upstream=$upstream_addr status=$status';
    # $upstream_addr lists every server tried ("a:80, b:80", "a:80 : b:80" across internal
    # redirects); the last one is the one that answered, and the one taken here. "-" (nothing
    # contacted, e.g. the name did not resolve) and unix sockets carry no pairing.
    "nginx-upstream": RegexPreset(
        pattern=(
            r"(?P<time>\S+) host=(?P<rrname>[^\s:]+) upstream="
            rf"(?:(?:\S+(?:,| :) )*\[?(?P<rdata>{_IP}?)\]?:\d+|-|unix:\S+) status=\d+"
        ),
        time_format="iso8601",
        description="nginx: log_format '$time_iso8601 host=$host upstream=$upstream_addr status=$status'",
    ),
    # LogFormat "%{sec}t %{Host}i %{BALANCER_WORKER_NAME}e %>s" yapdns   (mod_proxy_balancer)
    "apache-balancer": RegexPreset(
        pattern=rf"(?P<time>\d+) (?P<rrname>[^\s:]+)(?::\d+)? [a-z]+://\[?(?P<rdata>{_IP}?)\]?(?::\d+)?/? \d{{3}}",
        time_format="epoch",
        description='apache: LogFormat "%{sec}t %{Host}i %{BALANCER_WORKER_NAME}e %>s"',
    ),
}
