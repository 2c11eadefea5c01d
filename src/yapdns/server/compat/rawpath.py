"""The request path as the client sent it, split before it is percent-decoded.

dnsdb2 sends a Flex regex containing ``/`` as ``%2F`` inside one segment;
WSGI's ``PATH_INFO`` has already turned it into a separator. gunicorn (which
``yapdns serve`` runs) keeps the request target in ``RAW_URI`` and uWSGI in
``REQUEST_URI``; we split that on ``/`` and then decode each segment as UTF-8
(``+`` stays a plus). Without either variable (e.g. Django's test server)
the decoded path is used, which is right except for an encoded ``/``.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from django.http import HttpRequest

from yapdns.core.errors import InvalidQuery


def raw_path(request: HttpRequest) -> str | None:
    """The undecoded path of the request target, if the server kept it."""
    target = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if not target:
        return None
    if not target.startswith("/"):
        target = urlsplit(target).path or "/"  # absolute-form target
    return target.split("?", 1)[0]


def segments_after(request: HttpRequest, prefix: str) -> list[str]:
    """The decoded path segments after ``prefix`` (e.g. ``/dnsdb/v2/``); trailing empty ones dropped."""
    raw = raw_path(request)
    if raw is not None and prefix in raw:
        parts = [_decode(p) for p in raw.split(prefix, 1)[1].split("/")]
    else:
        parts = request.path.split(prefix, 1)[1].split("/") if prefix in request.path else []
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def rest_after(request: HttpRequest, prefix: str) -> str:
    """Everything after ``prefix``, decoded as one string (CIRCL's query: a CIDR's ``/`` is kept)."""
    raw = raw_path(request)
    if raw is not None and prefix in raw:
        return _decode(raw.split(prefix, 1)[1])
    return request.path.split(prefix, 1)[1] if prefix in request.path else ""


def _decode(segment: str) -> str:
    try:
        return unquote(segment, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidQuery("the path is not valid percent-encoded UTF-8") from None
