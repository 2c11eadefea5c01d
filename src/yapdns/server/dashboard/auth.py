"""Logging in and out of the dashboard.

* ``login``: Django's session login with CSRF; the only dashboard page open
  to anonymous callers. django-axes counts failures per username and per
  client IP in the application database (so the limit holds across gunicorn
  workers on PostgreSQL and in one SQLite process alike) and, once either
  reaches ``YAPDNS_LOGIN_FAILURE_LIMIT``, refuses further attempts for
  ``YAPDNS_LOGIN_COOLOFF_SECONDS`` with ``locked_out`` (HTTP 429) before the
  password is even checked.
* ``logout``: POST only (a link cannot log anyone out), then back to login.
* ``client_ip``: the peer address; ``X-Forwarded-For`` is believed only from a
  proxy on this host, matching ``yapdns serve``'s ``forwarded_allow_ips``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from yapdns.server.security import public

_TRUSTED_PROXIES = ("127.0.0.1", "::1")


def client_ip(request: HttpRequest) -> str:
    """The client address used for the per-IP login limit."""
    peer = str(request.META.get("REMOTE_ADDR") or "")
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    if peer in _TRUSTED_PROXIES and forwarded:
        return forwarded.rsplit(",", maxsplit=1)[-1].strip() or peer
    return peer


class DashboardLoginView(auth_views.LoginView):
    template_name = "dashboard/login.html"
    redirect_authenticated_user = True


login = public(DashboardLoginView.as_view())


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the session (POST with CSRF only)."""
    from django.contrib.auth import logout as end_session
    from django.shortcuts import redirect

    end_session(request)
    return redirect(settings.LOGIN_URL)


def locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials: Any = None) -> HttpResponse:
    """The login page, refusing: too many failed attempts for this username or address."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(
        request,
        "dashboard/login.html",
        {"locked_out": True, "cooloff_minutes": minutes, "form": None},
        status=429,
    )
