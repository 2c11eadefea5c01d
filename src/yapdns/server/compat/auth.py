"""Who is calling the compatible APIs, and may they query now.

Both APIs take YAPDNS **query tokens** (``yapdns token add USER``):

* DNSDB: ``X-API-Key: <token>`` (header names are case-insensitive). A
  missing, unknown, revoked or sensor token is 403 ``Error: API key not
  valid``; an expired block quota is 401; an exhausted quota is 429.
* CIRCL: HTTP Basic with the token owner's user name and the token as the
  password (what MISP, pypdns and dnsdbq send), or the raw token as the whole
  ``Authorization`` value (pypdns ``auth_token=``), or ``Bearer <token>``.
  Failure is 401 with ``WWW-Authenticate: Basic``. Account passwords are
  never accepted here: they belong to the dashboard, and checking a slow
  password hash on every API call would make each request a CPU sink.

``Caller`` carries the principal and its ``TokenQuota`` (``server/limits.py``).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from yapdns.server.limits import QuotaExhausted, QuotaExpired, TokenQuota
from yapdns.server.security import Principal, authenticate_token, bearer_token

log = logging.getLogger("yapdns.compat")


@dataclass(frozen=True)
class Caller:
    principal: Principal
    gate: TokenQuota

    @property
    def username(self) -> str:
        user = self.principal.user
        return user.get_username() if user is not None else "-"


class Refusal(Exception):
    """A request refused before any query ran."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def refusal_response(exc: Refusal, render: Callable[[int, str], HttpResponse]) -> HttpResponse:
    """The plain-text error for a refusal, with ``Retry-After`` when waiting helps."""
    response = render(exc.status, str(exc))
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


def _query_principal(token: str | None) -> Principal | None:
    if not token:
        return None
    principal = authenticate_token(token.strip())
    return principal if principal is not None and principal.kind == "user" else None


def dnsdb_caller(request: HttpRequest) -> Caller:
    """The DNSDB caller behind ``X-API-Key``, or ``Refusal`` (403)."""
    principal = _query_principal(request.headers.get("X-API-Key"))
    if principal is None:
        raise Refusal(403, "Error: API key not valid")
    return Caller(principal, TokenQuota.for_token(principal.token_id))


def circl_caller(request: HttpRequest) -> Caller:
    """The CIRCL caller behind ``Authorization`` (Basic, raw or Bearer), or ``Refusal`` (401)."""
    header = request.headers.get("Authorization", "").strip()
    scheme, _, rest = header.partition(" ")
    user: str | None = None
    if scheme.lower() == "basic":
        user, token = _basic(rest)
    else:
        token = bearer_token(request) or (header if header and " " not in header else None)
    principal = _query_principal(token)
    if principal is None or (user is not None and principal.user is not None and user != principal.user.get_username()):
        raise Refusal(401, "Error: authentication required: user name and query token")
    return Caller(principal, TokenQuota.for_token(principal.token_id))


def _basic(value: str) -> tuple[str | None, str | None]:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (None, None)


def charge(caller: Caller) -> None:
    """Count one query against the caller's quota, or raise ``Refusal`` (401 expired, 429 exhausted)."""
    try:
        caller.gate.consume()
    except QuotaExpired:
        raise Refusal(401, "Error: Quota is expired") from None
    except QuotaExhausted as exc:
        raise Refusal(429, f"Error: Quota exhausted ({exc.window})", retry_after=exc.retry_after) from None


def compat_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Mark a view as authenticating itself (see ``security.RequireAuthenticationMiddleware``)."""
    view.yapdns_auth = "api"  # type: ignore[attr-defined]
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def log_identification(request: HttpRequest, caller: Caller | None, params: dict[str, Any]) -> None:
    """Log DNSDB's identification parameters (never used to accept or refuse)."""
    log.info(
        "compat query user=%s path=%s swclient=%s version=%s id=%s",
        caller.username if caller else "-",
        request.path[:200],
        str(params.get("swclient", "-"))[:20],
        str(params.get("version", "-"))[:20],
        str(params.get("id", "-"))[:30],
    )
