"""The search box: what analysts type, turned into the query API's parameters.

One box understands:

* a name (``example.com``), a left wildcard (``*.example.com``) or a right
  wildcard (``www.example.*``): owner-name searches;
* an address (``192.0.2.1``, ``2001:db8::1``), a CIDR (``192.0.2.0/24``,
  ``2001:db8::/48``) or a range (``a-b``): records whose rdata is in it;
* ``rdata:<name>`` (or the "name in rdata" toggle): CNAME/NS/MX/PTR/SRV...
  targets, with the same wildcards (``rdata:*.example.com``);
* ``sample:<sha256>``: the DNS a sandbox sample produced;
* ``asn:13335``, ``cc:NL``, ``prefix:192.0.2.0/24``: records whose address an
  enrichment dataset put in that AS, country or routed prefix (at any time
  kept), alone or beside any of the above (``*.example.com cc:RU``).

``SearchRequest.api_params`` is exactly what ``/api/v1/records`` takes, so
the page and its CSV/JSON/COF export links always run the same query
through the same parser (``server/query/params.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode

from django.urls import reverse

from yapdns.core.errors import InvalidQuery
from yapdns.server.query import params as api_params
from yapdns.storage.query import RecordQuery, looks_like_ip_query

SearchKind = Literal["name", "suffix", "prefix", "ip", "cidr", "rdata", "sample", "context"]
KIND_LABELS: dict[str, str] = {
    "name": "Exact name",
    "suffix": "Subdomains (left wildcard)",
    "prefix": "Right wildcard",
    "ip": "IP address",
    "cidr": "Network (CIDR / range)",
    "rdata": "Name in rdata",
    "sample": "Sandbox sample",
    "context": "AS, country or prefix",
}
CONTEXT_TOKENS = {"asn:": "asn", "cc:": "cc", "prefix:": "prefix"}
PAGE_SIZES = (25, 50, 100, 250, 500)
DEFAULT_PAGE_SIZE = 100
SORT_KEYS = ("rrname", "rrtype", "rdata", "time_first", "time_last", "count")
FORMATS = ("csv", "json", "cof")
_DATE_FENCES = {
    "first_after": ("time_first_after", False),
    "first_before": ("time_first_before", True),
    "last_after": ("time_last_after", False),
    "last_before": ("time_last_before", True),
}


@dataclass
class SearchRequest:
    """A dashboard search read from the query string."""

    text: str = ""
    kind: SearchKind | None = None
    api: dict[str, str] = field(default_factory=dict)
    sort: str = ""
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def empty(self) -> bool:
        return not self.text

    def record_query(self) -> RecordQuery:
        return api_params.record_query(self.api, cap=max(PAGE_SIZES))

    def export_url(self, fmt: str, limit: int = 10_000) -> str:
        """The query API URL answering the same search in ``fmt`` (session auth works there)."""
        query = {k: v for k, v in self.api.items() if k not in ("cursor", "limit")}
        query.update({"format": fmt, "limit": str(limit)})
        return f"{reverse('records')}?{urlencode(query)}"


def classify(text: str, rdata_mode: bool = False) -> tuple[SearchKind, str, str]:
    """``(kind, api key, value)`` for what was typed; raise ``InvalidQuery`` when empty."""
    text = text.strip()
    lowered = text.lower()
    for prefix, mode in (("rdata:", "rdata"), ("sample:", "sample")):
        if lowered.startswith(prefix):
            text, rdata_mode = text[len(prefix) :].strip(), mode == "rdata"
            if mode == "sample":
                return "sample", "sample", text.lower()
    if not text:
        raise InvalidQuery("type a name, *.domain, name.*, an IP, a CIDR, rdata:<name> or sample:<sha256>")
    if rdata_mode:
        return "rdata", "rdata_name", text
    if looks_like_ip_query(text):
        single = "/" not in text and "," not in text and "-" not in text
        return ("ip" if single else "cidr"), "ip", text
    if text.startswith("*."):
        return "suffix", "rrname", text
    if text.endswith(".*"):
        return "prefix", "rrname", text
    return "name", "rrname", text


def split_context(text: str) -> tuple[str, dict[str, str]]:
    """The text without its ``asn:``/``cc:``/``prefix:`` tokens, and those tokens as API parameters."""
    rest, context = [], {}
    for token in text.split():
        lowered = token.lower()
        found = next((p for p in CONTEXT_TOKENS if lowered.startswith(p) and len(token) > len(p)), None)
        if found is None:
            rest.append(token)
        else:
            context[CONTEXT_TOKENS[found]] = token[len(found) :]
    return " ".join(rest), context


def day_epoch(value: str, end_of_day: bool) -> int:
    """A ``YYYY-MM-DD`` date as the first (or last) second of that UTC day."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidQuery(f"dates are YYYY-MM-DD, got {value[:20]!r}") from None
    start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
    return start + 86399 if end_of_day else start


def parse(get: Mapping[str, str]) -> SearchRequest:
    """Read the search form's parameters; raise ``InvalidQuery`` with a message for the page."""
    text = (get.get("q") or "").strip()
    request = SearchRequest(text=text, sort=get.get("sort", "") if _valid_sort(get.get("sort", "")) else "")
    request.page_size = _page_size(get.get("limit"))
    if not text:
        return request
    rest, context = split_context(text)
    api = {**context, "limit": str(request.page_size)}
    if rest or not context:
        kind, key, value = classify(rest, rdata_mode=get.get("in") == "rdata")
        api[key] = value
    else:
        kind = "context"
    request.kind = kind
    for name in ("rrtype", "sensor", "evidence", "cursor"):
        if get.get(name):
            api["type" if name == "rrtype" else name] = get[name].strip()
    for name, (fence, end) in _DATE_FENCES.items():
        if get.get(name):
            api[fence] = str(day_epoch(get[name], end))
    request.api = api
    return request


def _page_size(value: str | None) -> int:
    try:
        size = int(value or DEFAULT_PAGE_SIZE)
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def _valid_sort(value: str) -> bool:
    return value.removeprefix("-") in SORT_KEYS


def sort_rows(rows: list[object], sort: str) -> list[object]:
    """Sort one page by a column (``-`` for descending); the store's order when ``sort`` is empty."""
    if not sort:
        return rows
    key = sort.removeprefix("-")
    return sorted(rows, key=lambda r: getattr(r, key), reverse=sort.startswith("-"))
