from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "harmonie.audit"
    label = "audit"

    def ready(self) -> None:
        from harmonie.audit import receivers  # noqa: F401 (Django's way to connect receivers)
