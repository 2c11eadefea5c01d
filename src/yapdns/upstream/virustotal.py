"""VirusTotal API v3 resolutions over plain HTTPS (``httpx``): ``/domains/{name}/resolutions`` and
``/ip_addresses/{ip}/resolutions``, key in the ``x-apikey`` header.

A resolution object's attributes (docs.virustotal.com, "Resolution object"): ``date`` (UTC epoch),
``host_name``, ``ip_address``, ``resolver``. One resolution is one sighting at ``date``: an A or AAAA
observation by the address's family, count 1. Only the first page (at most 40 objects, VT's page size limit) is
read: following ``links.next`` would spend the quota of an account that has 4 requests a minute.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx

from yapdns.core.model import Observation
from yapdns.upstream.base import UpstreamAnswer, UpstreamError, as_int, imported

PAGE_MAX = 40


def resolution_observation(item: Any) -> Observation | None:
    attributes = item.get("attributes") if isinstance(item, dict) else None
    if not isinstance(attributes, dict):
        return None
    name, address, date = attributes.get("host_name"), attributes.get("ip_address"), as_int(attributes.get("date"))
    if not isinstance(name, str) or not isinstance(address, str) or date is None:
        return None
    try:
        family = ipaddress.ip_address(address).version
    except ValueError:
        return None
    return imported("virustotal", name, "A" if family == 4 else "AAAA", [address], date, date)


class VirusTotalConnector:
    name = "virustotal"

    def __init__(self, key: str, base_url: str, timeout: float = 30) -> None:
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers={"x-apikey": key}, timeout=timeout)

    def fetch(self, query: str, *, is_ip: bool, limit: int) -> UpstreamAnswer:
        path = f"/ip_addresses/{query}/resolutions" if is_ip else f"/domains/{query}/resolutions"
        try:
            reply = self.client.get(path, params={"limit": min(limit, PAGE_MAX)})
        except httpx.HTTPError as exc:
            raise UpstreamError(f"VirusTotal: {exc}") from exc
        if reply.status_code != 200:
            raise UpstreamError(f"VirusTotal answered {reply.status_code}: {reply.text[:200]}")
        try:
            data = reply.json().get("data")
        except (ValueError, AttributeError):
            raise UpstreamError("VirusTotal: the answer is not a JSON object") from None
        items = data if isinstance(data, list) else []
        found = [resolution_observation(i) for i in items[:limit]]
        observations = [o for o in found if o is not None]
        return UpstreamAnswer(observations, len(found) - len(observations))
