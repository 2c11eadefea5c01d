"""Managing sensors over the API.

``/api/v1/sensors`` (GET list, POST create → token shown once) and
``/api/v1/sensors/<name>/revoke`` need an admin or analyst.
"""

from __future__ import annotations

import msgspec
from django.http import HttpRequest, HttpResponse, JsonResponse

from yapdns.core.errors import ConfigurationError
from yapdns.server.security import Principal, api_view, error
from yapdns.server.sensors import services
from yapdns.server.sensors.models import Sensor


class _NewSensor(msgspec.Struct):
    name: str
    description: str = ""


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
    try:
        spec = msgspec.json.decode(request.body, type=_NewSensor)
        sensor, token = services.create_sensor(spec.name, spec.description, by=principal.user)
    except (msgspec.DecodeError, ConfigurationError) as exc:
        return error(400, str(exc))
    return JsonResponse({"sensor": sensor_json(sensor), "token": token}, status=201)


@api_view("manage", methods=("POST",))
def revoke_sensor(request: HttpRequest, principal: Principal, name: str) -> HttpResponse:
    try:
        sensor = services.revoke_sensor(name)
    except ConfigurationError as exc:
        return error(404, str(exc))
    return JsonResponse({"sensor": sensor_json(sensor)})
