"""Management pages: sensors and their ingest tokens, one's own query tokens, and users (admins only).

A new token is shown once, in the response to the POST that created it; it
is never stored in clear, put in a URL or kept in the session.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from yapdns.core.errors import ConfigurationError
from yapdns.server.accounts.models import ApiToken
from yapdns.server.accounts.roles import can_manage_sensors, can_manage_users, role_of, set_role
from yapdns.server.accounts.services import create_query_token, revoke_query_token
from yapdns.server.dashboard.forms import RoleForm, SensorForm, TokenForm, UserCreateForm
from yapdns.server.dashboard.views.common import problem, requires
from yapdns.server.security import methods
from yapdns.server.sensors.models import Sensor
from yapdns.server.sensors.services import add_sensor_token, create_sensor, revoke_sensor, revoke_sensor_token

_sensors = requires(can_manage_sensors, "manage sensors")
_users = requires(can_manage_users, "manage users")


@_sensors
@methods("GET", "POST")
def sensors_page(request: HttpRequest) -> HttpResponse:
    """List sensors; POST creates one and shows its first token once."""
    form = SensorForm(request.POST or None)
    context: dict[str, object] = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            sensor, token = create_sensor(
                form.cleaned_data["name"], form.cleaned_data["description"], by=request.user  # type: ignore[arg-type]
            )
        except ConfigurationError as exc:
            form.add_error("name", str(exc))
        else:
            context.update(new_token=token, new_token_for=sensor.name, form=SensorForm())
    context["sensors"] = Sensor.objects.prefetch_related("tokens")
    return render(request, "dashboard/manage/sensors.html", context, status=400 if form.errors else 200)


@_sensors
@methods("GET", "POST")
def sensor_page(request: HttpRequest, name: str) -> HttpResponse:
    """One sensor's tokens; POST ``action`` = ``new_token`` | ``revoke_token`` | ``revoke_sensor``."""
    sensor = Sensor.objects.filter(name=name).first()
    if sensor is None:
        return problem(request, 404, "No such sensor", f"There is no sensor named {name!r}.")
    context: dict[str, object] = {"sensor": sensor}
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "new_token" and sensor.active:
            context["new_token"] = add_sensor_token(sensor)
        elif action == "revoke_token":
            try:
                revoke_sensor_token(sensor, int(request.POST.get("token_id", "0")))
            except (ValueError, ConfigurationError) as exc:
                return problem(request, 400, "Cannot revoke", str(exc))
            return redirect(reverse("dashboard:sensor", kwargs={"name": sensor.name}))
        elif action == "revoke_sensor":
            revoke_sensor(sensor.name)
            return redirect(reverse("dashboard:sensor", kwargs={"name": sensor.name}))
        else:
            return problem(request, 400, "Unknown action", "That action is not available for this sensor.")
    context["tokens"] = sensor.tokens.all()
    return render(request, "dashboard/manage/sensor.html", context)


@methods("GET", "POST")
def tokens_page(request: HttpRequest) -> HttpResponse:
    """The viewer's own query tokens; POST creates one (shown once) or revokes one."""
    form = TokenForm(request.POST if request.POST.get("action") == "create" else None)
    context: dict[str, object] = {"form": form}
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            try:
                revoke_query_token(int(request.POST.get("token_id", "0")), request.user)  # type: ignore[arg-type]
            except (ValueError, ConfigurationError) as exc:
                return problem(request, 400, "Cannot revoke", str(exc))
            return redirect(reverse("dashboard:tokens"))
        if form.is_valid():
            row, token = create_query_token(request.user, form.cleaned_data["name"])  # type: ignore[arg-type]
            context.update(new_token=token, new_token_name=row.name, form=TokenForm())
    context["tokens"] = ApiToken.objects.filter(user=request.user)  # type: ignore[misc]
    return render(request, "dashboard/manage/tokens.html", context)


@_users
@methods("GET", "POST")
def users_page(request: HttpRequest) -> HttpResponse:
    """List users; POST creates one with a role."""
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = get_user_model().objects.create_user(username=data["username"], password=data["password"])
        set_role(user, data["role"])
        return redirect(reverse("dashboard:users"))
    users = [(u, role_of(u)) for u in get_user_model().objects.order_by("username").prefetch_related("groups")]
    status = 400 if form.errors else 200
    return render(request, "dashboard/manage/users.html", {"form": form, "users": users}, status=status)


@_users
@methods("POST")
def user_action(request: HttpRequest, user_id: int) -> HttpResponse:
    """POST ``action`` = ``role`` (with ``role``) | ``disable`` | ``enable``; admins cannot lock themselves out."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return problem(request, 404, "No such user", "That user does not exist.")
    action = request.POST.get("action")
    if user.pk == request.user.pk and action in ("disable", "role"):
        return problem(request, 400, "Not on yourself", "Ask another admin to change your own role or access.")
    if action == "role":
        form = RoleForm(request.POST)
        if not form.is_valid():
            return problem(request, 400, "Unknown role", "Choose admin, analyst or read-only.")
        set_role(user, form.cleaned_data["role"])
    elif action in ("disable", "enable"):
        user.is_active = action == "enable"
        user.save(update_fields=["is_active"])
    else:
        return problem(request, 400, "Unknown action", "That action is not available for users.")
    return redirect(reverse("dashboard:users"))
