"""Logging in and out of the dashboard.

* ``login``: Django's session login with CSRF; the only dashboard page open
  to anonymous callers. django-axes counts failures per (username, client
  address) and per client address in the application database (so the limit
  holds across gunicorn workers on PostgreSQL and in one SQLite process
  alike) and, once one reaches ``YAPDNS_LOGIN_FAILURE_LIMIT``, refuses
  further attempts for ``YAPDNS_LOGIN_COOLOFF_SECONDS`` with ``locked_out``
  (HTTP 429) before the password is even checked. Failures never lock a
  username by itself, so nobody can lock another person out from elsewhere.
* ``logout``: POST only (a link cannot log anyone out), then back to login.
* ``client_ip``: the peer address; ``X-Forwarded-For`` is believed only from
  the proxies listed in ``YAPDNS_TRUSTED_PROXIES`` (none by default).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yapdns.server.security import methods, public


def client_ip(request: HttpRequest) -> str:
    """The client address the login limit counts against.

    The TCP peer, unless the peer is a trusted proxy (``YAPDNS_TRUSTED_PROXIES``): then the right-most
    ``X-Forwarded-For`` address that is not itself a trusted proxy (each proxy appends the address it saw,
    so the addresses left of it are the client's own claims).
    """
    trusted: frozenset[str] = settings.TRUSTED_PROXIES
    address = str(request.META.get("REMOTE_ADDR") or "")
    hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if h.strip()]
    while address in trusted and hops:
        address = hops.pop()
    return address[:100]


class DashboardLoginView(auth_views.LoginView):
    template_name = "dashboard/login.html"
    redirect_authenticated_user = True


login = public(methods("GET", "POST")(DashboardLoginView.as_view()))


@methods("POST")
def logout(request: HttpRequest) -> HttpResponse:
    """End the session (POST with CSRF only)."""
    from django.contrib.auth import logout as end_session
    from django.shortcuts import redirect

    end_session(request)
    return redirect(settings.LOGIN_URL)


def locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials: Any = None) -> HttpResponse:
    """The login page, refusing: too many failed attempts for this username from this address, or from it."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(
        request,
        "dashboard/login.html",
        {"locked_out": True, "cooloff_minutes": minutes, "form": None},
        status=429,
    )
