"""Shared view plumbing: the store, role checks, and the error page."""

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
