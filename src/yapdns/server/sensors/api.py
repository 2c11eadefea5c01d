"""Managing sensors and query tokens over the API.

``/api/v1/sensors`` (GET list, POST create → token shown once) and
``/api/v1/sensors/<name>/revoke`` need an admin or analyst.
``/api/v1/tokens`` (GET own tokens, POST create → token shown once) and
``/api/v1/tokens/<id>/revoke`` act on the caller's own query tokens.
"""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

import msgspec
from django.http import HttpRequest, HttpResponse, JsonResponse

from yapdns.core.errors import ConfigurationError
from yapdns.server.accounts.models import ApiToken
from yapdns.server.security import Principal, api_view, error
from yapdns.server.sensors import service
from yapdns.server.sensors.models import Sensor


class _NewSensor(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    description: Annotated[str, msgspec.Meta(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""


class _NewToken(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = "api"


T = TypeVar("T")
_TOKEN_ID = re.compile(r"[1-9][0-9]{0,17}")


def _body(request: HttpRequest, spec: type[T], empty: bytes = b"") -> T | HttpResponse:
    """The JSON body as ``spec``, or the 400 that says what is wrong with it."""
    try:
        return msgspec.json.decode(request.body or empty, type=spec)
    except msgspec.DecodeError as exc:  # ValidationError included: names the field
        return error(400, f"bad request body: {exc}")
    except RecursionError:
        return error(400, "bad request body: the JSON is nested too deeply")


def sensor_json(sensor: Sensor) -> dict[str, object]:
    return {
        "name": sensor.name,
        "description": sensor.description,
        "active": sensor.active,
        "created_at": sensor.created_at.isoformat(),
        "revoked_at": sensor.revoked_at.isoformat() if sensor.revoked_at else None,
        "last_seen_at": sensor.last_seen_at.isoformat() if sensor.last_seen_at else None,
        "batches": sensor.batches_total,
        "accepted": sensor.accepted_total,
        "rejected": sensor.rejected_total,
        "replayed": sensor.replayed_total,
        "refused": sensor.refused_total,
        "failed": sensor.failed_total,
        "tokens": [
            {"prefix": t.prefix, "created_at": t.created_at.isoformat(), "active": t.revoked_at is None}
            for t in sensor.tokens.all()
        ],
    }


@api_view("manage", methods=("GET", "POST"))
def sensors(request: HttpRequest, principal: Principal) -> HttpResponse:
    if request.method == "GET":
        rows = Sensor.objects.prefetch_related("tokens")
        return JsonResponse({"sensors": [sensor_json(s) for s in rows]})
    spec = _body(request, _NewSensor)
    if isinstance(spec, HttpResponse):
        return spec
    try:
        sensor, token = service.create_sensor(spec.name, spec.description, by=principal.user)
    except ConfigurationError as exc:
        return error(400, str(exc))
    return JsonResponse({"sensor": sensor_json(sensor), "token": token}, status=201)


@api_view("manage", methods=("POST",))
def revoke_sensor(request: HttpRequest, principal: Principal, name: str) -> HttpResponse:
    try:
        sensor = service.revoke_sensor(name)
    except ConfigurationError as exc:
        return error(404, str(exc))
    return JsonResponse({"sensor": sensor_json(sensor)})


def token_json(token: ApiToken) -> dict[str, object]:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "active": token.active,
    }


@api_view("query", methods=("GET", "POST"))
def tokens(request: HttpRequest, principal: Principal) -> HttpResponse:
    assert principal.user is not None
    if request.method == "GET":
        return JsonResponse({"tokens": [token_json(t) for t in ApiToken.objects.filter(user=principal.user)]})
    spec = _body(request, _NewToken, empty=b"{}")
    if isinstance(spec, HttpResponse):
        return spec
    row, token = service.create_query_token(principal.user, spec.name)
    return JsonResponse({"token": token, **token_json(row)}, status=201)


@api_view("query", methods=("POST",))
def revoke_token(request: HttpRequest, principal: Principal, token_id: str) -> HttpResponse:
    assert principal.user is not None
    if not _TOKEN_ID.fullmatch(token_id):  # the route takes any text, so that every miss is a JSON 404
        return error(404, f"no token with id {token_id[:30]!r}")
    try:
        row = service.revoke_query_token(int(token_id), principal.user)
    except ConfigurationError as exc:
        return error(404, str(exc))
    return JsonResponse(token_json(row))
