"""The alerts page: watchlist matches with a filter, each linked to its record, and the workflow on each
(acknowledge, close, reopen, assign, comment) for analysts and admins."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from yapdns.server.accounts.roles import can_manage_sensors
from yapdns.server.dashboard.views.common import problem
from yapdns.server.detection import services
from yapdns.server.detection.models import STATUS_CHOICES, Alert
from yapdns.server.detection.views import alert_rows, object_id
from yapdns.server.security import methods

PAGE = 200
ACTIONS = {"acknowledge": "acknowledged", "close": "closed", "reopen": "open"}


@methods("GET", "POST")
def alerts_page(request: HttpRequest) -> HttpResponse:
    """``/alerts?status=&q=&assignee=``; POST ``alert`` + ``action`` (or ``comment``) works on one alert."""
    if request.method == "POST":
        return _act(request)
    filters = {k: request.GET.get(k, "").strip() for k in ("status", "q", "assignee", "entry")}
    rows = list(alert_rows({k: v for k, v in filters.items() if v})[:PAGE])
    context = {
        "alerts": [(a, _record_url(a)) for a in rows],
        "filters": filters,
        "statuses": [s for s, _ in STATUS_CHOICES],
        "users": User.objects.filter(is_active=True).order_by("username").values_list("username", flat=True),
        "can_act": can_manage_sensors(request.user),
        "limited": len(rows) == PAGE,
    }
    return render(request, "dashboard/alerts.html", context)


def _record_url(alert: Alert) -> str:
    key = {"rrname": alert.rrname, "rrtype": alert.rrtype, "rdata": alert.rdata}
    return f"{reverse('dashboard:record')}?{urlencode(key)}"


def _act(request: HttpRequest) -> HttpResponse:
    if not can_manage_sensors(request.user):
        return problem(request, 403, "Not allowed", "Your role may not work on alerts.")
    alert = Alert.objects.filter(pk=object_id(request.POST.get("alert", ""))).first()
    if alert is None:
        return problem(request, 404, "No such alert", "That alert does not exist (any more).")
    user: User = request.user  # type: ignore[assignment]
    action = request.POST.get("action", "")
    if action in ACTIONS:
        services.update_alert(alert, user, status=ACTIONS[action])
    elif action == "assign":
        assignee = User.objects.filter(username=request.POST.get("assignee", "")).first() or user
        services.update_alert(alert, user, assign=True, assignee=assignee)
    elif action == "unassign":
        services.update_alert(alert, user, assign=True, assignee=None)
    elif action == "comment":
        services.update_alert(alert, user, comment=request.POST.get("comment", ""))
    else:
        return problem(request, 400, "Unknown action", "That action is not available for an alert.")
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/alerts") else reverse("dashboard:alerts"))
