"""VirusTotal API v3 resolutions over plain HTTPS (``httpx``): ``/domains/{name}/resolutions`` and
``/ip_addresses/{ip}/resolutions``, key in the ``x-apikey`` header.

A resolution object's attributes (docs.virustotal.com, "Resolution object"): ``date`` (UTC epoch),
``host_name``, ``ip_address``, ``resolver``. One resolution is one sighting at ``date``: an A or AAAA
observation by the address's family, count 1.

Pages (docs.virustotal.com, "Collections"): a page holds at most 40 objects; while there are more, the
answer carries ``links.next`` and ``meta.cursor``, and the next page is the same request with
``cursor=<meta.cursor>``. The connector reads pages until ``limit`` objects, the ``requests`` it may send
(the caller's remaining quota: every page is one request), or the last page (no ``links.next`` or no
cursor, an empty page, or a cursor already used). It builds each next request on the configured base URL
with the cursor, never by following ``links.next``, so the key is never sent to a host the answer names.
An object whose ``id`` came on an earlier page is skipped. A page that fails after the first ends the
reading: what came before is kept, and ``stopped`` says why.
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


def next_cursor(page: dict[str, Any]) -> str | None:
    """The cursor of the next page, or None on the last one."""
    links, meta = page.get("links"), page.get("meta")
    if not isinstance(links, dict) or not links.get("next") or not isinstance(meta, dict):
        return None
    cursor = meta.get("cursor")
    return cursor if isinstance(cursor, str) and cursor else None


class _Reading:
    """The objects read so far, without repeats (by ``id``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: list[Any] = []
        self.ids: set[str] = set()

    def add(self, data: list[Any]) -> None:
        for item in data:
            if len(self.items) >= self.limit:
                return
            key = item.get("id") if isinstance(item, dict) else None
            if isinstance(key, str):
                if key in self.ids:
                    continue
                self.ids.add(key)
            self.items.append(item)

    def answer(self, requests: int, stopped: str = "") -> UpstreamAnswer:
        found = [resolution_observation(i) for i in self.items]
        observations = [o for o in found if o is not None]
        return UpstreamAnswer(observations, len(found) - len(observations), requests=requests, stopped=stopped)


class VirusTotalConnector:
    name = "virustotal"

    def __init__(self, key: str, base_url: str, timeout: float = 30) -> None:
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers={"x-apikey": key}, timeout=timeout)

    def fetch(self, query: str, *, is_ip: bool, limit: int, requests: int = 1) -> UpstreamAnswer:
        path = f"/ip_addresses/{query}/resolutions" if is_ip else f"/domains/{query}/resolutions"
        reading, cursor, used, cursors = _Reading(limit), None, 0, set()
        while used < max(requests, 1) and len(reading.items) < limit:
            params: dict[str, str | int] = {"limit": min(limit - len(reading.items), PAGE_MAX)}
            if cursor is not None:
                params["cursor"] = cursor
            used += 1
            try:
                page = self._page(path, params)
            except UpstreamError as exc:
                if used == 1:
                    raise
                return reading.answer(used, f"page {used}: {exc}")
            data = page.get("data")
            if not isinstance(data, list) or not data:
                break
            reading.add(data)
            cursor = next_cursor(page)
            if cursor is None or cursor in cursors:
                break
            cursors.add(cursor)
        return reading.answer(used)

    def _page(self, path: str, params: dict[str, str | int]) -> dict[str, Any]:
        try:
            reply = self.client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"VirusTotal: {exc}") from exc
        if reply.status_code != 200:
            raise UpstreamError(f"VirusTotal answered {reply.status_code}: {reply.text[:200]}")
        try:
            page = reply.json()
        except ValueError:
            page = None
        if not isinstance(page, dict):
            raise UpstreamError("VirusTotal: the answer is not a JSON object")
        return page
