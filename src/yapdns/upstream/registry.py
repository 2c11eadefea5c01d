"""The connectors configured in settings: each exists only when its credentials are set (opt-in)."""

from __future__ import annotations

from yapdns import config
from yapdns.core.errors import ConfigurationError
from yapdns.upstream.base import UpstreamConnector

NAMES = ("dnsdb", "circl", "virustotal")


_KEYS = {
    "dnsdb": "YAPDNS_UPSTREAM_DNSDB_KEY",
    "circl": "YAPDNS_UPSTREAM_CIRCL_USER",
    "virustotal": "YAPDNS_UPSTREAM_VT_KEY",
}


def configured_names() -> list[str]:
    """The names of the configured connectors (without building them)."""
    return [name for name in NAMES if config.get(_KEYS[name])]


def configured() -> dict[str, UpstreamConnector]:
    """Name → connector, for each service whose key (CIRCL: user) is set."""
    get = config.get
    found: dict[str, UpstreamConnector] = {}
    if get("YAPDNS_UPSTREAM_DNSDB_KEY"):
        from yapdns.upstream.dnsdb import DnsdbConnector

        found["dnsdb"] = DnsdbConnector(get("YAPDNS_UPSTREAM_DNSDB_KEY"), get("YAPDNS_UPSTREAM_DNSDB_URL"))
    if get("YAPDNS_UPSTREAM_CIRCL_USER"):
        from yapdns.upstream.circl import CirclConnector

        found["circl"] = CirclConnector(
            get("YAPDNS_UPSTREAM_CIRCL_URL"), get("YAPDNS_UPSTREAM_CIRCL_USER"), get("YAPDNS_UPSTREAM_CIRCL_PASSWORD")
        )
    if get("YAPDNS_UPSTREAM_VT_KEY"):
        from yapdns.upstream.virustotal import VirusTotalConnector

        found["virustotal"] = VirusTotalConnector(get("YAPDNS_UPSTREAM_VT_KEY"), get("YAPDNS_UPSTREAM_VT_URL"))
    return found


def daily_quota(name: str) -> int:
    """Requests a day this server may send to ``name`` (``YAPDNS_UPSTREAM_DAILY_QUOTA``: ``name=n,...``)."""
    for item in config.get("YAPDNS_UPSTREAM_DAILY_QUOTA").split(","):
        key, _, value = item.partition("=")
        if key.strip() == name:
            if not value.strip().isdigit():
                raise ConfigurationError(f"YAPDNS_UPSTREAM_DAILY_QUOTA: {item!r} needs a number")
            return int(value)
    return 0
