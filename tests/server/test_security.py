"""Security properties that must hold for every route, including ones added later."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from yapdns.storage.base import Store

# Routes deliberately open to anonymous callers; everything else must refuse them.
PUBLIC = {"/api/v1/health", "/api/v1/ready", "/dnsdb/v2/ping", "/login/", "/accounts/login/"}


def _walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for p in patterns:
        text = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, text)
        else:
            yield text


def concrete(route: str) -> str:
    """A sample URL for a route pattern (path converters and regexes filled with plausible values)."""
    url = re.sub(r"<int:[^>]+>", "1", route)
    url = re.sub(r"<path:[^>]+>", "example.com", url)
    url = re.sub(r"<[^>]+>", "example.com", url)
    url = url.replace("^", "").replace("$", "").replace("\\Z", "")
    url = re.sub(r"\(\?:[^)]*\)\?", "/v2/lookup/rrset/name/example.com", url)  # catch-all API routes
    url = re.sub(r"\(\?P<[^>]+>[^)]*\)", "example.com", url)
    return "/" + url


ROUTES = sorted({concrete(r) for r in _walk(get_resolver().url_patterns)})


@pytest.mark.parametrize("url", ROUTES)
def test_every_route_refuses_anonymous_callers(client: Client, store: Store, url: str) -> None:
    if url in PUBLIC:
        pytest.skip("public by design")
    for method in ("get", "post"):
        reply = getattr(client, method)(url)
        assert reply.status_code in (401, 403, 302, 405), (method, url, reply.status_code)
        if reply.status_code == 302:
            assert "/login" in reply["Location"]


def test_security_headers(client: Client, store: Store) -> None:
    reply = client.get("/api/v1/health")
    csp = reply["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert reply["X-Content-Type-Options"] == "nosniff"
    assert reply["Cache-Control"] == "no-store"
