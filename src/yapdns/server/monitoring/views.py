"""``GET /metrics`` (with the metrics token) and ``GET /api/v1/ready`` (public readiness check).

``/metrics`` is never open by accident: it answers only a caller presenting
``YAPDNS_METRICS_TOKEN`` as a bearer token, and is refused (403) while that
setting is empty. A Prometheus on the same host can instead scrape the
loopback listener that ``YAPDNS_METRICS_LISTEN`` starts beside the server.

``/api/v1/health`` (query app) says the process is alive; ``/api/v1/ready``
says whether it can do its job: the record store takes writes and every
migration, of the store and of the application database, is applied.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from prometheus_client import CONTENT_TYPE_LATEST

from yapdns.server.monitoring import exposition
from yapdns.server.security import bearer_token, error, public
from yapdns.server.store import get_store
from yapdns.storage.observe import ReadinessProbe

log = logging.getLogger(__name__)


def metrics(request: HttpRequest) -> HttpResponseBase:
    """The Prometheus text exposition of every worker's metrics."""
    wanted = str(settings.METRICS_TOKEN)
    if not wanted:
        return error(403, "metrics over HTTP need YAPDNS_METRICS_TOKEN (or scrape YAPDNS_METRICS_LISTEN)")
    given = bearer_token(request) or ""
    if not hmac.compare_digest(given.encode(), wanted.encode()):
        return error(401, "send the metrics token: 'Authorization: Bearer <YAPDNS_METRICS_TOKEN>'")
    if request.method not in ("GET", "HEAD"):
        response = error(405, f"method {request.method} not allowed")
        response["Allow"] = "GET"
        return response
    return HttpResponse(exposition.render(get_store), content_type=CONTENT_TYPE_LATEST)


metrics.yapdns_auth = "api"  # type: ignore[attr-defined]  # it checks its own token


def readiness_problems() -> list[str]:
    """What stops this server from taking writes now; empty when ready."""
    problems: list[str] = []
    try:
        store = get_store()
        if isinstance(store, ReadinessProbe):
            problems += store.readiness()
        else:
            store.stats()
    except Exception:
        log.exception("readiness: the record store failed")
        problems.append("the record store cannot be opened")
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        log.exception("readiness: the application database failed")
        problems.append("the application database cannot be read")
    else:
        if plan:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
            problems.append(f"application migrations pending: {names} (run `yapdns migrate`)")
        problems += _application_read_only()
    return problems


def _application_read_only() -> list[str]:
    """A read-only PostgreSQL under the application database (logins, sessions and tokens need writes)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('transaction_read_only'), pg_is_in_recovery()")
            read_only, standby = cursor.fetchone() or ("off", False)
    except DatabaseError:
        log.exception("readiness: the application database failed")
        return ["the application database cannot be read"]
    if standby:
        return ["read-only: the application database's PostgreSQL is a standby (in recovery) and takes no writes"]
    if read_only == "on":
        return ["read-only: the application database's PostgreSQL takes no writes "
                "(default_transaction_read_only is on)"]
    return []


@public
def ready(request: HttpRequest) -> HttpResponseBase:
    """200 ``{"status": "ready"}``, or 503 with the problems."""
    problems = readiness_problems()
    if problems:
        return JsonResponse({"status": "not ready", "problems": problems}, status=503)
    return JsonResponse({"status": "ready"})
