"""A database that takes no writes (a PostgreSQL standby, or one set read-only) answers 503, never 500.

Reads work on a standby, so searches do; a request that needs a write (ingest, a login, a token's
last-used time) meets PostgreSQL's ``read_only_sql_transaction`` error (SQLSTATE 25006), wrapped by
Django or not. ``server_error`` (the ``handler500``) turns it into 503 with ``Retry-After``: JSON on the
APIs, the problem page on the dashboard. ``/api/v1/ready`` says the same ahead of time.
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import defaults

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


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: 503 with ``Retry-After`` when the uncaught error is a write refused by a read-only
    database (JSON on the APIs, the problem page elsewhere); Django's 500 page otherwise. Django calls it
    inside its ``except`` block, for views and middleware (a session saved after a login) alike."""
    if not read_only(sys.exc_info()[1]):
        return defaults.server_error(request)
    if request.path.startswith(("/api/", "/dnsdb/", "/pdns/")):
        response: HttpResponse = error(503, MESSAGE)
    else:
        response = render(request, "dashboard/problem.html", {"title": "Read-only", "message": MESSAGE},
                          status=503)
    response["Retry-After"] = RETRY_AFTER
    return response
