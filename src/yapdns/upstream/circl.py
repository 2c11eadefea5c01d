"""CIRCL Passive DNS through CIRCL's ``pypdns`` client (``rfc_query``: COF records, HTTP basic auth)."""

from __future__ import annotations

from typing import Any

import pypdns

from yapdns.core.model import Observation
from yapdns.upstream.base import UpstreamAnswer, UpstreamError, as_int, imported


def record_observation(record: pypdns.PDNSRecord) -> Observation | None:
    """One COF record as an observation (its rdata may be one string or a list), or None."""
    raw: dict[str, Any] = dict(record.raw)
    rdata = raw.get("rdata")
    rdata = [rdata] if isinstance(rdata, str) else rdata
    first, last = as_int(raw.get("time_first")), as_int(raw.get("time_last"))
    rrname, rrtype = raw.get("rrname"), raw.get("rrtype")
    if not isinstance(rdata, list) or not rdata or not all(isinstance(r, str) for r in rdata):
        return None
    if first is None or last is None or not isinstance(rrname, str) or not isinstance(rrtype, str):
        return None
    return imported("circl", rrname, rrtype, rdata, first, last, as_int(raw.get("count")) or 1)


class CirclConnector:
    name = "circl"

    def __init__(self, url: str, user: str, password: str) -> None:
        self.client = pypdns.PyPDNS(url=url, basic_auth=(user, password), useragent="yapdns")

    def fetch(self, query: str, *, is_ip: bool, limit: int, requests: int = 1) -> UpstreamAnswer:
        try:
            records = self.client.rfc_query(query, with_errors=False)
        except pypdns.PDNSError as exc:
            raise UpstreamError(f"CIRCL: {type(exc).__name__}: {exc}") from exc
        if not isinstance(records, list):
            raise UpstreamError("CIRCL: unexpected answer")
        found = [record_observation(r) for r in records[:limit]]
        observations = [o for o in found if o is not None]
        return UpstreamAnswer(observations, len(found) - len(observations))
