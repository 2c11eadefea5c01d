"""Shared view plumbing: the store, role checks, the error page, and the session quota of query pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yapdns.server.store import get_store
from yapdns.storage.base import Store

View = Callable[..., HttpResponse]


def store() -> Store:
    return get_store()


def requires(check: Callable[[AbstractBaseUser | AnonymousUser], bool], what: str) -> Callable[[View], View]:
    """Refuse the view (403 page) unless ``check(request.user)``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                return problem(request, 403, "Not allowed", f"Your role may not {what}.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def problem(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    """A dashboard page saying what went wrong."""
    return render(request, "dashboard/problem.html", {"title": title, "message": message}, status=status)


def charge_session(request: HttpRequest, queries: int = 1) -> HttpResponse | None:
    """Count ``queries`` against the user's dashboard-session quota (``limits.UserSessionQuota``); the 429
    page naming the limit and when it resets, with ``Retry-After``, when it is spent."""
    from yapdns.server.limits import LimitExceeded, UserSessionQuota
    from yapdns.server.security import quota_message

    if request.user.pk is None:
        return None
    try:
        UserSessionQuota(int(request.user.pk)).consume(queries=queries)
    except LimitExceeded as exc:
        response = problem(request, exc.status, "Query quota reached",
                           f"{quota_message(exc)}. An admin can raise it: yapdns quota user NAME.")
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response
    return None


def charged(view: View) -> View:
    """Charge one query to the user's session quota before a page that queries the store."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return charge_session(request) or view(request, *args, **kwargs)

    return wrapper
