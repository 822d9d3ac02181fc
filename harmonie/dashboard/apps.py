from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "harmonie.dashboard"
    label = "dashboard"

    def ready(self) -> None:
        from harmonie.dashboard import site_config  # noqa: F401 (Django's way to connect receivers)
