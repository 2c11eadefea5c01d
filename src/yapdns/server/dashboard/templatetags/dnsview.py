"""Template filters for DNS data: ``{% load dnsview %}`` then ``{{ name|dname }}``, ``{{ r|rdata }}``...

Each filter returns escaped, ``<bdi>``-isolated HTML (see ``display.py``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django import template
from django.http import QueryDict
from django.utils.safestring import SafeString

from yapdns.core.windows import Windows
from yapdns.server.dashboard import display

register = template.Library()


@register.filter
def dname(name: str) -> SafeString:
    return display.name_html(name)


@register.filter
def dname_plain(name: str) -> SafeString:
    return display.name_html(name, link=False)


@register.filter
def rdata(record: Any) -> SafeString:
    return display.rdata_html(record.rrtype, record.rdata)


@register.filter
def context_badge(record: Any, contexts: Any) -> SafeString:
    """``AS13335 · AU`` after an address, from ``contexts`` (``enrichment.services.record_contexts``), if known."""
    found = contexts.get((record.rrname, record.rrtype, record.rdata)) if isinstance(contexts, dict) else None
    return display.context_html(found)


@register.filter
def ip(addr: str) -> SafeString:
    return display.ip_html(addr)


@register.filter
def when(epoch: int | None) -> SafeString:
    return display.when_html(epoch)


@register.filter
def ago(epoch: int | None) -> str:
    return display.ago(epoch)


@register.filter
def span(record: Any) -> str:
    return display.duration(record.time_last - record.time_first)


@register.filter
def windows(record: Any) -> Windows:
    """The record's traffic and zone-file windows (``.traffic``, ``.zone``: pairs, or None)."""
    return Windows.of(record)


@register.filter
def zone_badge(record: Any) -> SafeString:
    """A badge on a row whose times are zone-file times (seen only in zone files), else nothing."""
    return display.zone_badge_html() if record.zone_only else SafeString("")


@register.filter
def compact(number: int | None) -> str:
    return display.compact(number)


@register.filter
def visible(text: str) -> str:
    return display.visible(text)


@register.simple_tag
def record_url(record: Any) -> str:
    """The record detail page of one per-RR record."""
    query = urlencode({"rrname": record.rrname, "rrtype": record.rrtype, "rdata": record.rdata})
    return f"{_record_page()}?{query}"


@lru_cache(maxsize=1)
def _record_page() -> str:
    from django.urls import reverse

    return reverse("dashboard:record")


@register.simple_tag(takes_context=True)
def with_params(context: Any, **changes: Any) -> str:
    """The current query string with ``changes`` applied (``None`` or ``""`` removes a key)."""
    params: QueryDict = context["request"].GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
