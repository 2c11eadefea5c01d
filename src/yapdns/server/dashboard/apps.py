from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "yapdns.server.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from yapdns.server.dashboard import checks  # noqa: F401  (registers the asset check)
