"""Unknown query parameters on the own API are a 400, not silently ignored.

A typo such as ``rrtyp=A`` would otherwise return every type and look like an answer. The parameters an
endpoint takes are the ones its OpenAPI operation declares (``openapi.py``), so the document and the check
cannot disagree. Only the own API (``/api/v1/``) is strict; the DNSDB and CIRCL endpoints ignore unknown
parameters, as the services they imitate do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse

from yapdns.server.query.openapi import schema
from yapdns.server.security import error

Route = tuple[re.Pattern[str], dict[str, frozenset[str]]]


@cache
def _routes() -> tuple[Route, ...]:
    """Each documented path as a pattern, with the query parameters each of its methods declares."""
    routes = []
    for path, operations in schema()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        declared = {
            method.upper(): frozenset(p["name"] for p in op.get("parameters", []) if p.get("in") == "query")
            for method, op in operations.items()
        }
        routes.append((pattern, declared))
    return tuple(routes)


def unknown_parameters(request: HttpRequest) -> list[str]:
    """The query parameters of ``request`` that its documented operation does not declare (sorted)."""
    method = "GET" if request.method == "HEAD" else str(request.method)
    for pattern, declared in _routes():
        if pattern.match(request.path) and method in declared:
            return sorted(set(request.GET) - declared[method])
    return []


class UnknownParametersMiddleware:
    """Answer 400 naming the unknown parameters, and the ones the endpoint takes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if not request.path.startswith("/api/v1/"):
            return None
        unknown = unknown_parameters(request)
        if not unknown:
            return None
        method = "GET" if request.method == "HEAD" else str(request.method)
        known = next(d[method] for p, d in _routes() if p.match(request.path) and method in d)
        takes = ", ".join(sorted(known)) or "no query parameters"
        return error(400, f"unknown parameter(s) {', '.join(repr(u) for u in unknown)}; this endpoint takes: {takes}")
