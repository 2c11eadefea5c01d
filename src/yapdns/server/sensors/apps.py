"""sensors: the agents and integrations that ingest, their ingest tokens and their ingest counters.

Models ``Sensor`` and ``SensorToken`` (``models.py``); ``services.py``
creates and revokes sensors and tokens for the CLI, the API and the
dashboard, and counts what each ingested; ``views.py`` serves
``/api/v1/sensors`` (``urls.py``). Tests: ``tests/server/sensors/``.
"""

from django.apps import AppConfig


class SensorsConfig(AppConfig):
    name = "yapdns.server.sensors"
    label = "sensors"
    verbose_name = "Sensors"
