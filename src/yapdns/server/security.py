"""Authentication by default, token checks, and security headers.

Every view needs a logged-in user unless it says otherwise:

* ``@public`` opens a view to anyone (the health probe, DNSDB's ping, login);
* ``@api_view(scope=...)`` authenticates API callers itself: a bearer token
  (``Authorization: Bearer <token>``), or the session of a logged-in user for
  the query and manage scopes. Sensor tokens can only ingest; user tokens can
  never ingest. A session-authenticated unsafe request must pass CSRF.

Every view serves GET (and HEAD) only unless ``@methods(...)`` or
``@api_view(methods=...)`` says otherwise: ``AllowedMethodsMiddleware``
answers any other method (TRACE, OPTIONS, PUT...) with 405 and an ``Allow``
header before the view runs. Unknown URLs under ``/api/`` get a JSON 404.

``RequireAuthenticationMiddleware`` refuses any other view to anonymous
callers (401 for API paths, a redirect to the login page otherwise), so a new
view is protected even if its author forgets. ``SecurityHeadersMiddleware``
adds a Content-Security-Policy without inline script.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from yapdns.server import tokens
from yapdns.server.accounts.models import ApiToken
from yapdns.server.sensors.models import Sensor, SensorToken

Scope = Literal["ingest", "query", "manage"]
View = Callable[..., HttpResponseBase]
F = TypeVar("F", bound=Callable[..., Any])
_TOUCH_EVERY = dt.timedelta(minutes=1)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a sensor (ingest) or a user (query, manage)."""

    kind: Literal["sensor", "user"]
    sensor: Sensor | None = None
    user: User | None = None
    token_id: int | None = None


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer`` (or ``Token``) header."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return None


def authenticate_token(token: str) -> Principal | None:
    """Look a presented token up by digest; None if unknown or revoked."""
    digest = tokens.digest(token)
    kind = tokens.kind_of(token)
    if kind == "sensor":
        row = SensorToken.objects.select_related("sensor").filter(digest=digest, revoked_at__isnull=True).first()
        if row is None or row.sensor.revoked_at is not None:
            return None
        _touch(row)
        return Principal("sensor", sensor=row.sensor, token_id=row.pk)
    if kind == "query":
        api = ApiToken.objects.select_related("user").filter(digest=digest, revoked_at__isnull=True).first()
        if api is None or not api.user.is_active:
            return None
        _touch(api)
        return Principal("user", user=api.user, token_id=api.pk)
    return None


def _touch(row: SensorToken | ApiToken) -> None:
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        type(row).objects.filter(pk=row.pk).update(last_used_at=now)


def error(status: int, message: str, **extra: object) -> JsonResponse:
    """The JSON error body every API error uses: ``{"error": message, ...}``."""
    response = JsonResponse({"error": message, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="yapdns"'
    return response


def _allowed(principal: Principal, scope: Scope) -> bool:
    if scope == "ingest":
        return principal.kind == "sensor"
    if principal.kind != "user":
        return False
    if scope == "manage":
        from yapdns.server.accounts.roles import can_manage_sensors

        return principal.user is not None and can_manage_sensors(principal.user)
    return True


def resolve_principal(request: HttpRequest, scope: Scope) -> Principal | HttpResponse:
    """Authenticate an API request for ``scope``: a Principal, or the error response to send."""
    token = bearer_token(request)
    if token is not None:
        principal = authenticate_token(token)
        if principal is None:
            return error(401, "invalid or revoked token")
    elif scope != "ingest" and request.user.is_authenticated:
        principal = Principal("user", user=request.user)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            rejected = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, _noop, (), {})
            if rejected is not None:
                return error(403, "CSRF check failed")
    else:
        return error(401, "authentication required: send 'Authorization: Bearer <token>'")
    if not _allowed(principal, scope):
        return error(403, f"this credential may not use the {scope} API")
    return principal


def _noop(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def charge_quota(principal: Principal, queries: int = 1) -> HttpResponse | None:
    """Count ``queries`` against the caller's quota: the token's (``limits.TokenQuota``), or for a dashboard
    session the user's (``limits.UserSessionQuota``); the refusal to send, if any.

    Refusals say which limit was hit: 429 with ``Retry-After`` for an exhausted window (``day``, ``burst``,
    ``block``), 401 for an expired quota. Sensors carry no quota.
    """
    from yapdns.server.limits import LimitExceeded

    try:
        consume_quota(principal, queries)
    except LimitExceeded as exc:
        return quota_refusal(exc)
    return None


def consume_quota(principal: Principal, queries: int = 1) -> None:
    """Count ``queries`` against the principal's quota; raise ``QuotaExpired`` or ``QuotaExhausted``."""
    from yapdns.server.limits import TokenQuota, UserSessionQuota

    if principal.kind != "user":
        return
    if principal.token_id is not None:
        TokenQuota.for_token(principal.token_id).consume(queries=queries)
    elif principal.user is not None and principal.user.pk is not None:
        UserSessionQuota(int(principal.user.pk)).consume(queries=queries)


def quota_message(exc: Exception) -> str:
    """What a quota refusal says, naming the limit: the token's or the session's."""
    from yapdns.server.limits import QuotaExhausted, QuotaExpired

    if isinstance(exc, QuotaExpired):
        return "the quota of this token has expired; ask an admin to renew it"
    window = exc.window if isinstance(exc, QuotaExhausted) else "query"
    holder = "dashboard session's (per user)" if getattr(exc, "holder", "token") == "session" else "token's"
    wait = f"; try again in {exc.retry_after} s" if isinstance(exc, QuotaExhausted) and exc.retry_after else ""
    return f"quota exhausted: the {holder} {window} limit{wait}"


def quota_refusal(exc: Exception) -> HttpResponse:
    """The API's JSON refusal of a quota; the dashboard renders its own page (``dashboard/quota.py``)."""
    from yapdns.server.limits import QuotaExhausted, QuotaExpired

    if isinstance(exc, QuotaExpired):
        return error(401, quota_message(exc), limit="expired")
    assert isinstance(exc, QuotaExhausted)
    response = error(429, quota_message(exc), limit=exc.window, retry_after=exc.retry_after)
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


def api_view(
    scope: Scope, methods: tuple[str, ...] = ("GET",), *, charge: bool = True
) -> Callable[[View], View]:
    """Authenticate (see module doc), check the method, charge a query request to the token's quota (unless
    ``charge`` is false: the view charges itself), then call ``view(request, principal, ...)``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            allowed = (*methods, "HEAD") if "GET" in methods else methods
            if request.method not in allowed:
                return not_allowed(request, allowed)
            principal = resolve_principal(request, scope)
            if isinstance(principal, HttpResponse):
                return principal
            refused = charge_quota(principal) if scope == "query" and charge else None
            return refused or view(request, principal, *args, **kwargs)

        wrapper.yapdns_auth = "api"  # type: ignore[attr-defined]
        wrapper.yapdns_methods = methods  # type: ignore[attr-defined]
        return csrf_exempt(wrapper)

    return decorate


def methods(*allowed: str) -> Callable[[F], F]:
    """Declare the HTTP methods ``view`` serves (GET implies HEAD); ``AllowedMethodsMiddleware`` refuses others."""

    def decorate(view: F) -> F:
        view.yapdns_methods = allowed  # type: ignore[attr-defined]
        return view

    return decorate


def allowed_methods(view: Callable[..., Any]) -> tuple[str, ...]:
    """The methods ``view`` serves: its declaration, or GET and HEAD."""
    declared: tuple[str, ...] = getattr(view, "yapdns_methods", ("GET",))
    return (*declared, "HEAD") if "GET" in declared else declared


def not_allowed(request: HttpRequest, allowed: tuple[str, ...]) -> HttpResponse:
    """405 with an ``Allow`` header: JSON under ``/api/``, plain text elsewhere."""
    message = f"method {request.method} not allowed; use {', '.join(allowed)}"
    if request.path.startswith("/api/"):
        response: HttpResponse = error(405, message)
    else:
        response = HttpResponse(message + "\n", status=405, content_type="text/plain; charset=utf-8")
    response["Allow"] = ", ".join(allowed)
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: a JSON error under ``/api/``, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return error(404, f"no API endpoint at {request.path}; see /api/v1/openapi.json")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Exception("not found"))


class AllowedMethodsMiddleware:
    """Answer 405 to a method the resolved view does not serve (see ``methods``), TRACE included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        allowed = allowed_methods(view)
        return None if request.method in allowed else not_allowed(request, allowed)


def public(view: View) -> View:
    """Mark a view as open to anonymous callers."""
    view.yapdns_auth = "public"  # type: ignore[attr-defined]
    return view


class RequireAuthenticationMiddleware:
    """Refuse every view that is neither ``@public`` nor an ``@api_view`` to anonymous users."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        marker = getattr(view, "yapdns_auth", None) or getattr(getattr(view, "view_class", None), "yapdns_auth", None)
        if marker in ("api", "public") or request.user.is_authenticated:
            return None
        if request.path.startswith(("/api/", "/dnsdb/", "/pdns/")):
            return error(401, "authentication required")
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)


class SecurityHeadersMiddleware:
    """Content-Security-Policy (no inline script), Permissions-Policy, no-store for API answers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
