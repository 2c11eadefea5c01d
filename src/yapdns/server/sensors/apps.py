from django.apps import AppConfig


class SensorsConfig(AppConfig):
    name = "yapdns.server.sensors"
    label = "sensors"
    verbose_name = "Sensors"
