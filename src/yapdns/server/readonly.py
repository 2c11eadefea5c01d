"""A database that takes no writes (a PostgreSQL standby, or one set read-only) answers 503, never 500.

Reads work on a standby, so searches do; a request that needs a write (ingest, a login, a token's
last-used time) meets PostgreSQL's ``read_only_sql_transaction`` error (SQLSTATE 25006), wrapped by
Django or not. ``ReadOnlyDatabaseMiddleware`` turns it into 503 with ``Retry-After``: JSON on the APIs,
the problem page on the dashboard. ``/api/v1/ready`` says the same ahead of time.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from yapdns.server.security import error

READ_ONLY = "25006"  # SQLSTATE read_only_sql_transaction
MESSAGE = "the server's database takes no writes now (a read-only standby?); retry later, or use the primary"
RETRY_AFTER = "60"


def read_only(exc: BaseException | None) -> bool:
    """Whether ``exc``, or what caused it, is PostgreSQL refusing a write in a read-only transaction."""
    while exc is not None:
        if getattr(exc, "sqlstate", None) == READ_ONLY:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class ReadOnlyDatabaseMiddleware:
    """503 instead of 500 for a write refused by a read-only database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not read_only(exc):
            return None
        if request.path.startswith(("/api/", "/dnsdb/", "/pdns/")):
            response: HttpResponse = error(503, MESSAGE)
        else:
            from yapdns.server.dashboard.views.common import problem

            response = problem(request, 503, "Read-only", MESSAGE)
        response["Retry-After"] = RETRY_AFTER
        return response
