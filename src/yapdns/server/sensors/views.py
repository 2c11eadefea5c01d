"""Managing sensors over the API.

``/api/v1/sensors`` (GET list, POST create → token shown once) and
``/api/v1/sensors/<name>/revoke`` need an admin or analyst.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from django.http import HttpRequest, HttpResponse, JsonResponse

from yapdns.core.errors import ConfigurationError
from yapdns.server.jsonbody import decode_body
from yapdns.server.security import Principal, api_view, error
from yapdns.server.sensors import services
from yapdns.server.sensors.models import Sensor


class _NewSensor(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    description: Annotated[str, msgspec.Meta(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""


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
    spec = decode_body(request, _NewSensor)
    if isinstance(spec, HttpResponse):
        return spec
    try:
        sensor, token = services.create_sensor(spec.name, spec.description, by=principal.user)
    except ConfigurationError as exc:
        return error(400, str(exc))
    return JsonResponse({"sensor": sensor_json(sensor), "token": token}, status=201)


@api_view("manage", methods=("POST",))
def revoke_sensor(request: HttpRequest, principal: Principal, name: str) -> HttpResponse:
    try:
        sensor = services.revoke_sensor(name)
    except ConfigurationError as exc:
        return error(404, str(exc))
    return JsonResponse({"sensor": sensor_json(sensor)})
